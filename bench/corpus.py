"""The labelled corpus for the classifier's benchmarks: loading it, the untouched
held-out part (chosen by episode, by a fixed rule), folds grouped by episode, and the
per-class scores. Shared by classify_eval.py and train_classifier.py."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from classify import CALL_STATUSES

HOLDOUT_FRACTION = 0.25
FOLDS = 5


def holdout_episodes(episodes: set[str]) -> set[str]:
    """The untouched part: the first quarter of the episodes in sha256 order of the slug."""
    ordered = sorted(episodes, key=lambda e: hashlib.sha256(e.encode("utf-8")).hexdigest())
    return set(ordered[:round(len(ordered) * HOLDOUT_FRACTION)])


def load(path: Path) -> list[dict]:
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    return [i for i in items if i.get("label_confidence") != "low"]


def load_corpus(shared: Path) -> tuple[list[dict], list[dict], list[dict]] | None:
    """(dev, dev-2 tuning part, dev-2 held-out part), or None when shared/ is absent."""
    dev, dev2 = shared / "corpus" / "contacts-dev.jsonl", shared / "corpus" / "contacts-dev-2.jsonl"
    if not (dev.is_file() and dev2.is_file()):
        return None
    second = load(dev2)
    held = holdout_episodes({i["episode"] for i in second})
    return (load(dev), [i for i in second if i["episode"] not in held],
            [i for i in second if i["episode"] in held])


def group_folds(items: list[dict], k: int = FOLDS) -> list[list[int]]:
    """GroupKFold by episode, deterministic: the largest episodes first, each to the
    currently smallest fold (what sklearn's GroupKFold does), ties by slug."""
    sizes: dict[str, int] = {}
    for item in items:
        sizes[item["episode"]] = sizes.get(item["episode"], 0) + 1
    folds: list[list[str]] = [[] for _ in range(k)]
    load_of = [0] * k
    for episode in sorted(sizes, key=lambda e: (-sizes[e], e)):
        j = min(range(k), key=lambda f: (load_of[f], f))
        folds[j].append(episode)
        load_of[j] += sizes[episode]
    return [[i for i, item in enumerate(items) if item["episode"] in set(f)] for f in folds]


# --- scoring ----------------------------------------------------------------------------


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def scores(items: list[dict], preds: list[dict]) -> dict:
    pairs = list(zip(items, preds, strict=True))
    out = {}
    for cls in CALL_STATUSES:
        tp = sum(1 for i, p in pairs if i["call_status"] == cls == p["call_status"])
        fp = sum(1 for i, p in pairs if p["call_status"] == cls != i["call_status"])
        fn = sum(1 for i, p in pairs if i["call_status"] == cls != p["call_status"])
        out[cls] = prf(tp, fp, fn) + (tp + fn,)
    tp = sum(1 for i, p in pairs if i["contact_story"] and p["contact_story"])
    fp = sum(1 for i, p in pairs if p["contact_story"] and not i["contact_story"])
    fn = sum(1 for i, p in pairs if i["contact_story"] and not p["contact_story"])
    out["contact_story"] = prf(tp, fp, fn) + (tp + fn,)
    right = sum(1 for i, p in pairs if i["call_status"] == p["call_status"])
    out["accuracy"] = right / len(items) if items else 0.0
    out["n"] = len(items)
    return out
