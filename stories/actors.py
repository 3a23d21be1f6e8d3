"""The leadership whose contacts make a story, in the scripts the news uses."""

from __future__ import annotations

import re

from stories.copies import normalise

# The leadership whose contacts make a story, in the scripts the news uses. Prefixes, so
# that inflected forms (Путина, Трампом) match.
ACTORS: dict[str, tuple[str, ...]] = {
    "putin": ("putin", "путин", "путін", "بوتين", "πουτιν", "poutine", "poetin", "putyin",
              "पुतिन"),
    "trump": ("trump", "трамп", "ترامب", "τραμπ", "ट्रंप", "ट्रम्प"),
    "biden": ("biden", "байден", "بايدن", "μπαιντεν"),
    "obama": ("obama", "обам", "أوباما"),
    "peskov": ("peskov", "peskow", "pieskow", "peszkov", "песков", "пєсков", "بيسكوف",
               "πεσκοφ"),
    "lavrov": ("lavrov", "lawrow", "ławrow", "лавров", "لافروف", "λαβροφ"),
    "rubio": ("rubio", "рубио", "рубіо", "روبيو", "ρουμπιο"),
    "witkoff": ("witkoff", "уиткофф", "віткофф", "уиткоф", "виткофф", "ويتكوف", "γουιτκοφ"),
    "kushner": ("kushner", "кушнер", "كوشنر"),
    "dmitriev": ("dmitriev", "dmitrijew", "дмитриев", "дмитрієв", "دميترييف", "ديميترييف"),
    "ushakov": ("ushakov", "oesjakov", "uszakow", "uschakow", "ouchakov", "ушаков", "ουσακοφ",
                "أوشاكوف"),
    "vance": ("vance", "вэнс", "венс"),
    "waltz": ("waltz", "уолтц"),
    "sullivan": ("sullivan", "салливан", "саллів"),
    "patrushev": ("patrushev", "patroesjev", "patruszew", "патрушев"),
    "belousov": ("belousov", "beloesov", "белоусов", "білоус"),
    "shoigu": ("shoigu", "sjojgoe", "schoigu", "szojgu", "шойгу", "شويغو"),
    "austin": ("austin", "остин", "остін"),
    "hegseth": ("hegseth", "хегсет"),
    "naryshkin": ("naryshkin", "narysjkin", "naryschkin", "nariskin", "нарышкин", "наришкін"),
    "burns": ("burns", "бернс", "بيرنز"),
    "ratcliffe": ("ratcliffe", "рэтклифф"),
    "kislyak": ("kislyak", "kisljak", "кисляк", "كيسلياك"),
    "flynn": ("flynn", "флинн", "فلين"),
    "driscoll": ("driscoll", "дрисколл"),
    "kellogg": ("kellogg", "келлог"),
    "blinken": ("blinken", "блинкен", "блінкен"),
    "pompeo": ("pompeo", "помпео"),
    "tillerson": ("tillerson", "тиллерсон"),
    "bortnikov": ("bortnikov", "бортников"),
    "gerasimov": ("gerasimov", "герасимов"),
    "milley": ("milley", "милли"),
}


# Scripts whose words carry attached prefixes (Arabic و, ال, ب): a name may stand inside.
_INFIX = re.compile(r"[\u0600-\u06ff]")
# Letters, and the vowel signs of Indic scripts, which are marks rather than letters.
_WORD = re.compile(r"(?:[^\W\d_]|[\u0900-\u0dff])+")
_FORMS = {name: tuple(normalise(form) for form in forms) for name, forms in ACTORS.items()}


def actors_in(text: str) -> frozenset[str]:
    """The leaders named in the text. Forms are compared as the text is (casefolded,
    accents and vowel signs stripped), as word beginnings, or anywhere in an Arabic word."""
    words = _WORD.findall(normalise(text))
    found = set()
    for name, forms in _FORMS.items():
        for form in forms:
            if _INFIX.search(form):
                hit = any(form in w for w in words)
            else:
                hit = any(w.startswith(form) for w in words)
            if hit:
                found.add(name)
                break
    return frozenset(found)
