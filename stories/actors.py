"""The leadership whose contacts make a story, in the scripts the news uses."""

from __future__ import annotations

import re

from stories.copies import normalise

# The leadership whose contacts make a story, in the scripts the news uses. Prefixes, so
# that inflected forms (Путина, Трампом) match.
ACTORS: dict[str, tuple[str, ...]] = {
    "putin": ("putin", "путин", "путін", "بوتين"),
    "trump": ("trump", "трамп", "ترامب"),
    "biden": ("biden", "байден", "بايدن"),
    "obama": ("obama", "обам"),
    "peskov": ("peskov", "peskow", "pieskow", "песков", "пєсков", "بيسكوف"),
    "lavrov": ("lavrov", "lawrow", "лавров", "لافروف"),
    "rubio": ("rubio", "рубио", "рубіо"),
    "witkoff": ("witkoff", "уиткофф", "віткофф", "уиткоф"),
    "kushner": ("kushner", "кушнер"),
    "dmitriev": ("dmitriev", "дмитриев", "дмитрієв"),
    "ushakov": ("ushakov", "uszakow", "ушаков"),
    "vance": ("vance", "вэнс", "венс"),
    "waltz": ("waltz", "уолтц"),
    "sullivan": ("sullivan", "салливан", "саллів"),
    "patrushev": ("patrushev", "patruszew", "патрушев"),
    "belousov": ("belousov", "белоусов", "білоус"),
    "austin": ("austin", "остин"),
    "hegseth": ("hegseth", "хегсет"),
    "naryshkin": ("naryshkin", "нарышкин"),
    "ratcliffe": ("ratcliffe", "рэтклифф"),
}


def actors_in(text: str) -> frozenset[str]:
    words = re.findall(r"[^\W\d_]+", normalise(text))
    found = set()
    for name, prefixes in ACTORS.items():
        if any(w.startswith(p) for w in words for p in prefixes):
            found.add(name)
    return frozenset(found)
