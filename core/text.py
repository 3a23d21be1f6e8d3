"""Words for people: counts with their noun in the right number."""

from __future__ import annotations


def plural(count: int, singular: str, many: str | None = None) -> str:
    """"1 outlet", "2 outlets", "0 stories" (`many` for irregular plurals)."""
    return f"{count} {singular if count == 1 else many or singular + 's'}"


_QUOTES = "\"'“”„«»‘’‚‹›"


def quoted(text: str) -> str:
    """A sentence in quotation marks, once: quotes the sentence itself opens or closes
    with are not doubled ("“\\"We spoke\\"”")."""
    inner = " ".join(text.split()).strip(_QUOTES + " ")
    return f"“{inner}”"
