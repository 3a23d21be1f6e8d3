"""Classify an article: is it a Kremlin–White House contact story, and is the call
unconfirmed, confirmed or not reported as having happened (`none`)?

A plain function over title and text, driven by the editable cue file cues.toml, so
that the archive can be re-classified whenever the cues or rules change; the
CLASSIFIER_VERSION stored with each article says which rules produced its label."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from crawler.classify.cues import CueError, Cues, load_cues, normalize
from crawler.classify.rules import (
    CLAIM,
    CONFIRMED,
    DENIAL,
    NEGATION,
    REPORTED,
    SOURCED,
    UNCERTAIN,
    article_sentences,
    decide,
    find_mentions,
    is_contact_story,
)

RULES_VERSION = "3"
CLASSIFIER_VERSION = f"rules-{RULES_VERSION}+cues-{load_cues().version}"

CALL_STATUSES = ("unconfirmed", "confirmed", "none")
STANCES = {DENIAL: "denial", NEGATION: "denial", UNCERTAIN: "uncertain", SOURCED: "uncertain",
           CLAIM: "claim", CONFIRMED: "confirmed", REPORTED: "reported"}

__all__ = [
    "CALL_STATUSES",
    "CLASSIFIER_VERSION",
    "Classification",
    "CueError",
    "Cues",
    "classify",
    "load_cues",
    "normalize",
]


@dataclass
class Classification:
    contact_story: bool
    call_status: str  # "unconfirmed" | "confirmed" | "none"
    evidence: str | None  # the deciding sentence, verbatim from the title or text
    # How the deciding sentence speaks of the contact: "denial" (a denial or "there was
    # no call"), "uncertain" (hedged, anonymous), "claim" (one side says so),
    # "confirmed" or "reported" (as fact); None for plans and non-stories.
    stance: str | None = None
    # How likely the decision (contact_story and call_status) is right, 0-1, calibrated
    # on held-out episodes; low for text in a language the cues do not cover.
    confidence: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)


def classify(
    title: str | None,
    text: str,
    language: str | None = None,
    cues: Cues | Path | str | None = None,
) -> Classification:
    """Label one article. `language` is accepted for callers that know it; the cues of
    all languages are applied regardless, since pages mix languages and detectors err.
    `cues` may be compiled Cues or the path of a cue file (default: the shipped one)."""
    del language  # all cue languages are applied; see the docstring
    compiled = cues if isinstance(cues, Cues) else load_cues(cues)
    title = title.strip() if isinstance(title, str) and title.strip() else None
    sentences = article_sentences(title, text or "", compiled)
    mentions = find_mentions(sentences, title, text or "", compiled)
    if not is_contact_story(mentions):
        return Classification(False, "none", None)
    status, evidence = decide(mentions)
    stance = STANCES.get(evidence.status) if evidence is not None else None
    return Classification(True, status, evidence.text if evidence else None, stance)
