"""Classify an article: is it a Kremlin–White House contact story, and is the call
unconfirmed, confirmed or not reported as having happened (`none`)?

A plain function over title and text, driven by the editable cue file cues.toml, so
that the archive can be re-classified whenever the cues or rules change; the
CLASSIFIER_VERSION stored with each article says which rules produced its label."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from classify.cues import CueError, Cues, load_cues, normalize
from classify.model import (
    UNCOVERED_CAP,
    Model,
    article_features,
    label_of,
    load_model,
    script_coverage,
)
from classify.rules import (
    BACKGROUND,
    CLAIM,
    CONFIRMED,
    DENIAL,
    NEGATION,
    PLANNED,
    REFUSED,
    REPORTED,
    SOURCED,
    UNCERTAIN,
    article_sentences,
    decide,
    find_mentions,
    is_contact_story,
    may_report_contact,
)
from classify.rules import (
    _evidence as _first_body,
)

RULES_VERSION = "4"
_SHIPPED_MODEL = load_model()
CLASSIFIER_VERSION = f"rules-{RULES_VERSION}+cues-{load_cues().version}" + (
    f"+model-{_SHIPPED_MODEL.version}" if _SHIPPED_MODEL is not None else "")

CALL_STATUSES = ("unconfirmed", "confirmed", "none")
STANCES = {DENIAL: "denial", NEGATION: "denial", UNCERTAIN: "uncertain", SOURCED: "uncertain",
           CLAIM: "claim", CONFIRMED: "confirmed", REPORTED: "reported"}

__all__ = [
    "CALL_STATUSES",
    "CLASSIFIER_VERSION",
    "Classification",
    "CueError",
    "Cues",
    "Model",
    "classify",
    "load_cues",
    "load_model",
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
    model: Model | Path | str | bool | None = None,
) -> Classification:
    """Label one article. The cues of all languages are applied whatever `language`
    says, since pages mix languages and detectors err; a `language` (ISO code, as
    extraction detects it) the cues do not read caps the confidence, as an unread
    script does. `cues` may be compiled Cues or the path of a cue file (default: the
    shipped one). `model` may be a Model, the path of a weights file (default: the
    shipped one) or False for the rules alone (confidence 1.0, as before the learned
    layer)."""
    compiled = cues if isinstance(cues, Cues) else load_cues(cues)
    title = title.strip() if isinstance(title, str) and title.strip() else None
    mentions = []
    if may_report_contact(title, text or "", compiled):
        sentences = article_sentences(title, text or "", compiled)
        mentions = find_mentions(sentences, title, text or "", compiled)
    story = is_contact_story(mentions)
    status, evidence = decide(mentions) if story else ("none", None)
    learned = _model(model)
    if learned is None:
        return _result(story, status, evidence, 1.0)
    coverage = script_coverage(f"{title or ''} {text or ''}")
    probs = learned.probabilities(article_features(mentions, label_of(story, status), coverage))
    label = label_of(story, status)
    if learned.decide == "learned":
        label = max(probs, key=probs.get)
        if label != label_of(story, status):
            story, status = label != "not_story", ("none" if label == "not_story" else label)
            evidence = _evidence_for(status, mentions) if story else None
    confidence = probs.get(label, 0.0)
    if coverage < 0.5 or not _reads(compiled, language):
        confidence = min(confidence, UNCOVERED_CAP)  # a script or language not read
    return _result(story, status, evidence, round(confidence, 4))


def _reads(cues: Cues, language: str | None) -> bool:
    """Whether the cues read this language ("pt-BR" is "pt"); unknown counts as read."""
    if not language:
        return True
    return language.split("-")[0].split("_")[0].lower() in cues.languages


def _model(model):
    if model is False:
        return None
    if isinstance(model, Model):
        return model
    return load_model(model if model not in (None, True) else None)


def _result(story: bool, status: str, evidence, confidence: float) -> Classification:
    if not story:
        return Classification(False, "none", None, None, confidence)
    stance = STANCES.get(evidence.status) if evidence is not None else None
    return Classification(True, status, evidence.text if evidence else None, stance, confidence)


# Which contact sentences speak for a status the learned layer chose over the rules.
_EVIDENCE_FOR = {
    "unconfirmed": (UNCERTAIN, SOURCED, DENIAL, NEGATION, CLAIM),
    "confirmed": (CONFIRMED, REPORTED),
    "none": (PLANNED, REFUSED, BACKGROUND, NEGATION, DENIAL),
}


def _evidence_for(status: str, mentions: list):
    for cls in _EVIDENCE_FOR[status]:
        chosen = [m for m in mentions if m.status == cls]
        if chosen:
            return _first_body(chosen)
    return _first_body(mentions) if mentions else None
