"""What kind of contact a sentence reports: a phone call or a meeting (a summit, a
visit, talks in a room). Two reports of different kinds are two contacts, however close
in time: the call three days after a summit is not the summit. Word stems in the
languages of the news we read, matched on casefolded, accent-free words."""

from __future__ import annotations

import re

from stories.copies import normalise

# Stems: an ASCII stem begins a word ("call" → called, calls), a short one in EXACT is
# the whole word; any other stem may stand inside a word (scripts with attached
# prefixes and suffixes: الاتصال, созвонились).
CALL_STEMS = (
    "phone", "telephon", "call", "telefon", "anruf", "angerufen", "appel", "llamad", "llamo",
    "chiamat", "zadzwon", "dzwon", "coup de fil",
    "телефон", "созвон", "звонок", "звонк", "звонил", "дзвін", "дзвонил", "зателефон",
    "τηλεφων", "هاتف", "مكالم", "اتصالا هاتفي", "फोन",
)
MEETING_STEMS = (
    "met", "meet", "summit", "visit", "sat down", "face to face", "in person", "treffen",
    "getroffen", "gipfel", "besuch", "rencontr", "sommet", "reunio", "cumbre", "incontr",
    "vertice", "zirve", "gorusme", "ziyaret", "spotka", "szczyt", "wizyt", "talalkoz",
    "csucs", "ontmoet",
    "встреч", "встрет", "саммит", "визит", "зустр", "саміт", "візит",
    "συναντη", "συνοδο", "επισκεψ", "قمة", "لقاء", "اجتماع", "زيارة", "बैठक", "मुलाकात",
)
EXACT = frozenset({"met"})
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _has(words: list[str], joined: str, stems: tuple[str, ...]) -> bool:
    for stem in stems:
        if stem in EXACT:
            if stem in words:
                return True
        elif " " in stem or not stem.isascii():
            if stem in joined:
                return True
        elif any(word.startswith(stem) for word in words):
            return True
    return False


def contact_kind(text: str | None) -> str | None:
    """"call", "meeting", or None when the text names neither or both."""
    if not text:
        return None
    joined = normalise(text)
    words = _WORD.findall(joined)
    call = _has(words, joined, CALL_STEMS)
    meeting = _has(words, joined, MEETING_STEMS)
    if call == meeting:
        return None
    return "call" if call else "meeting"
