"""The learned layer over the rules: per-article features derived from the rules' contact
sentences, and a multinomial logistic regression over them whose weights ship as JSON
(model.json, trained by bench/train_classifier.py from the labelled corpus).

It gives every decision a confidence (the probability of the decided label) and, when
the weights say so (`"decide": "learned"`), the decision itself. Inference is plain
Python: no scikit-learn, no pickle, no network."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_MODEL = Path(__file__).with_name("model.json")

# The four labels an article can get: not a contact story, or a story with a status.
LABELS = ("not_story", "none", "confirmed", "unconfirmed")
STATUS_CLASSES = ("uncertain", "denial", "negation", "sourcing", "claim", "confirmed",
                  "reported", "planned", "refused", "background")
FLAGS = ("past", "readout", "source", "official", "confirmed", "assertion", "hedge")
# Scripts the cue file covers (Latin, Greek, Cyrillic, Arabic, Devanagari); text in
# others (CJK, Hebrew, Bengali...) cannot be read by the rules, whatever they answer.
# tests/classify/test_classify.py checks that every letter of cues.toml is covered.
# Counted as what is left when everything else is deleted (one pass, no list of
# one-letter strings): the covered letters, and letters ([^\W\d_]) of any script.
_NOT_COVERED = re.compile(
    r"[^A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u0600-\u06ff\u0900-\u097f]+")
_NOT_LETTER = re.compile(r"[\W\d_]+")
UNCOVERED_CAP = 0.3  # the most confidence a text in an uncovered script can get


def label_of(contact_story: bool, call_status: str) -> str:
    return call_status if contact_story else "not_story"


def script_coverage(text: str) -> float:
    """Share of the letters (first 3,000 characters) in a script the cues cover."""
    sample = text[:3000]
    letters = len(_NOT_LETTER.sub("", sample))
    if not letters:
        return 1.0
    # Devanagari's vowel signs are covered but are not letters: at most all of them
    return min(1.0, len(_NOT_COVERED.sub("", sample)) / letters)


def article_features(mentions: list, rule_label: str, coverage: float) -> dict[str, float]:
    """What the rules found, by where they found it: the headline, the lead (first five
    sentences) and the rest; the rules' own label; and how well the script is covered."""
    feats: dict[str, float] = {f"rule={rule_label}": 1.0}
    for m in mentions:
        where = "title" if m.position < 0 else "lead" if m.position < 5 else "body"
        feats[f"{where}:{m.status}"] = 1.0
        for flag in FLAGS:
            if flag in m.facts.flags:
                feats[f"{where}:flag:{flag}"] = 1.0
    feats["mentions"] = math.log1p(len(mentions))
    feats["uncovered"] = 1.0 - coverage
    return feats


@dataclass(frozen=True)
class Model:
    """Multinomial logistic regression: one weight row per label over named features."""

    labels: tuple[str, ...]
    features: tuple[str, ...]
    coef: tuple[tuple[float, ...], ...]
    intercept: tuple[float, ...]
    decide: str = "rules"  # "rules": the rules decide, the model gives the confidence
    version: str = "0"
    c: float | None = None  # the regularisation it was trained with (for retraining folds)

    @classmethod
    def from_dict(cls, data: dict) -> Model:
        return cls(tuple(data["labels"]), tuple(data["features"]),
                   tuple(tuple(r) for r in data["coef"]), tuple(data["intercept"]),
                   data.get("decide", "rules"), str(data.get("version", "0")), data.get("c"))

    def to_dict(self) -> dict:
        return {"labels": list(self.labels), "features": list(self.features),
                "coef": [list(r) for r in self.coef], "intercept": list(self.intercept),
                "decide": self.decide, "version": self.version, "c": self.c}

    def probabilities(self, feats: dict[str, float]) -> dict[str, float]:
        index = {name: i for i, name in enumerate(self.features)}
        scores = []
        for row, b in zip(self.coef, self.intercept, strict=True):
            scores.append(b + sum(row[index[k]] * v for k, v in feats.items() if k in index))
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {label: e / total for label, e in zip(self.labels, exps, strict=True)}


@lru_cache(maxsize=4)
def _load(path: Path, mtime: float) -> Model:
    return Model.from_dict(json.loads(path.read_text(encoding="utf-8")))


_DEFAULT_RESOLVED = DEFAULT_MODEL.resolve()  # once: resolve() per article was slow


def load_model(path: Path | str | None = None) -> Model | None:
    """The shipped weights (or those at `path`); None when there are none."""
    model_path = Path(path) if path is not None else DEFAULT_MODEL
    try:
        mtime = model_path.stat().st_mtime
    except OSError:
        return None
    return _load(model_path.resolve() if path is not None else _DEFAULT_RESOLVED, mtime)
