"""Train the learned layer of the classifier (classify/model.json) from the
labelled corpus in shared/, reproducibly: the same data gives the same weights.

    PYTHONPATH=. .venv/bin/python bench/train_classifier.py [--shared ../shared] [--check]

Training data: contacts-dev.jsonl and the tuning part of contacts-dev-2.jsonl (never the
held-out episodes, see bench/classify_eval.py), low-confidence labels left out. Features:
what the rules found, by headline / lead / rest (classify.model). The model is a
multinomial logistic regression (scikit-learn at training time only; inference is plain
Python over the JSON weights).

The regularisation C is chosen from C_GRID by the same grouped cross-validation: the one
whose out-of-fold confidences have the lowest log loss on "is the decision right" (what
calibration asks of them). The CV figures printed include that choice, so they are a
little optimistic; the held-out part is not touched by it.

Whether the model decides or only gives the rules' decisions a confidence is chosen by
grouped cross-validation (5 folds by episode on the dev-2 tuning part): the learned
decisions are shipped only if their accuracy beats the rules' by two articles or more
and their unconfirmed F1 is no lower; otherwise the rules decide and the model only gives
the confidence."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from classify import classify, load_cues  # noqa: E402
from classify.model import (  # noqa: E402
    DEFAULT_MODEL,
    LABELS,
    Model,
    article_features,
    label_of,
    script_coverage,
)
from classify.rules import (  # noqa: E402
    article_sentences,
    decide,
    find_mentions,
    is_contact_story,
)

C = 0.5  # default inverse regularisation strength: small data, many sparse features
C_GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
VERSION = "2"


def features_of(item: dict, cues=None) -> dict[str, float]:
    cues = cues or load_cues()
    title = item.get("title")
    title = title.strip() if isinstance(title, str) and title.strip() else None
    text = item.get("text") or ""
    mentions = find_mentions(article_sentences(title, text, cues), title, text, cues)
    story = is_contact_story(mentions)
    status = decide(mentions)[0] if story else "none"
    return article_features(mentions, label_of(story, status),
                            script_coverage(f"{title or ''} {text}"))


def train(items: list[dict], decide_mode: str = "rules", c: float | None = None) -> Model:
    """Fit the weights on labelled items (deterministic: lbfgs from zero)."""
    c = C if c is None else c
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    cues = load_cues()
    rows = [features_of(i, cues) for i in items]
    names = sorted({k for r in rows for k in r})
    x = np.array([[r.get(n, 0.0) for n in names] for r in rows])
    y = [label_of(bool(i["contact_story"]), i["call_status"]) for i in items]
    present = [lab for lab in LABELS if lab in set(y)]
    clf = LogisticRegression(C=c, max_iter=5000)
    clf.fit(x, [present.index(v) for v in y])
    coef = {present[k]: clf.coef_[k] for k in range(len(present))}
    intercept = {present[k]: clf.intercept_[k] for k in range(len(present))}
    labels = tuple(present)
    return Model(labels, tuple(names),
                 tuple(tuple(round(float(v), 6) for v in coef[lab]) for lab in labels),
                 tuple(round(float(intercept[lab]), 6) for lab in labels), decide_mode, VERSION,
                 c)


def choose_c(dev: list[dict], tuning: list[dict]) -> tuple[float, dict[float, float]]:
    """The C of C_GRID whose out-of-fold confidences predict best whether the rules'
    decision is right (binary log loss), with the loss of each."""
    import math

    from corpus import group_folds

    cues = load_cues()
    losses = {}
    for c in C_GRID:
        total = 0.0
        for fold in group_folds(tuning):
            inside = set(fold)
            model = train(dev + [t for j, t in enumerate(tuning) if j not in inside], "rules", c)
            for j in fold:
                item = tuning[j]
                d = classify(item.get("title"), item["text"], item.get("language"), cues=cues,
                             model=model)
                right = (d.contact_story, d.call_status) == (bool(item["contact_story"]),
                                                             item["call_status"])
                p = d.confidence if right else 1.0 - d.confidence
                total -= math.log(min(max(p, 1e-6), 1.0))
        losses[c] = total / max(len(tuning), 1)
    return min(C_GRID, key=lambda c: (round(losses[c], 6), c)), losses


def cv_choice(dev: list[dict], tuning: list[dict], c: float | None = None) -> tuple[str, dict]:
    """'learned' or 'rules', by grouped cross-validation, with the figures."""
    from corpus import group_folds, scores

    cues = load_cues()
    learned, rules = [None] * len(tuning), [None] * len(tuning)
    for fold in group_folds(tuning):
        inside = set(fold)
        model = train(dev + [t for j, t in enumerate(tuning) if j not in inside], "learned", c)
        for j in fold:
            item = tuning[j]
            args = (item.get("title"), item["text"], item.get("language"))
            learned[j] = classify(*args, cues=cues, model=model).to_dict()
            rules[j] = classify(*args, cues=cues, model=False).to_dict()
    a, b = scores(tuning, learned), scores(tuning, rules)
    # a margin of at least two articles: one article either way is noise on ~70 items
    margin = 2 / max(len(tuning), 1)
    better = (a["accuracy"] >= b["accuracy"] + margin - 1e-9
              and a["unconfirmed"][2] >= b["unconfirmed"][2])
    return ("learned" if better else "rules"), {"learned": a, "rules": b}


def main() -> int:
    from corpus import load_corpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path,
                        default=Path(os.environ.get("BACKCHANNEL_SHARED", ROOT.parent / "shared")))
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--check", action="store_true",
                        help="fail if the shipped weights differ from a fresh training")
    args = parser.parse_args()
    corpus = load_corpus(args.shared)
    if corpus is None:
        print(f"corpus not found under {args.shared / 'corpus'}: nothing to train on")
        return 0
    dev, tuning, _held = corpus  # the held-out part is never trained on
    c, losses = choose_c(dev, tuning)
    print("grouped CV log loss of the confidence by C: "
          + ", ".join(f"{k:g} {v:.3f}" for k, v in losses.items()) + f"; chosen C {c:g}")
    mode, figures = cv_choice(dev, tuning, c)
    for name, s in figures.items():
        print(f"grouped CV, {name}: accuracy {s['accuracy']:.3f}, unconfirmed F1 "
              f"{s['unconfirmed'][2]:.3f}, confirmed F1 {s['confirmed'][2]:.3f}, "
              f"contact_story F1 {s['contact_story'][2]:.3f}")
    print(f"decide: {mode}")
    model = train(dev + tuning, mode, c)
    text = json.dumps(model.to_dict(), indent=1, sort_keys=True) + "\n"
    if args.check:
        same = args.out.is_file() and args.out.read_text(encoding="utf-8") == text
        print("shipped weights are up to date" if same else "shipped weights are STALE")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(model.features)} features, {len(model.labels)} labels)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
