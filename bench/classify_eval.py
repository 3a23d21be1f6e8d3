"""Honest figures for the contact-story classifier on the labelled corpus in shared/.

    PYTHONPATH=. .venv/bin/python bench/classify_eval.py [--shared ../shared] [--errors]
                                                          [--final] [--json]

What it prints (items labelled `label_confidence == "low"` are left out of every figure,
as the held-out scoring does):

* in-sample figures on `contacts-dev.jsonl` (the rules were tuned on it) and on the
  tuning part of `contacts-dev-2.jsonl`;
* grouped cross-validation (5-fold GroupKFold by `episode`) on the tuning part of
  `contacts-dev-2.jsonl` for the learned layer: each fold's model is trained, by
  bench/train_classifier.py, on `contacts-dev.jsonl` plus the other folds, never on an
  episode it is scored on; the rules alone are scored on the same folds beside it;
* a calibration table (confidence bins against observed accuracy) and a precision-recall
  table of `unconfirmed` per confidence threshold, both from the cross-validated
  decisions, with a recommended `min_confidence`;
* with --final only: the same figures on the untouched held-out part.

The held-out part: the episodes of `contacts-dev-2.jsonl`, sorted by the sha256 of their
slug, the first quarter of them (rounded). It is fixed by that rule, was chosen before
any error was looked at, is never used for training or tuning, and --errors never lists
its items."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from corpus import HOLDOUT_FRACTION, group_folds, load_corpus, scores  # noqa: E402

from classify import CALL_STATUSES, classify, load_cues  # noqa: E402

THRESHOLDS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9)
BINS = ((0.0, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.01))


def render_scores(name: str, s: dict) -> str:
    lines = [f"{name} ({s['n']} items, accuracy {s['accuracy']:.3f})",
             f"  {'':14}{'P':>7}{'R':>7}{'F1':>7}{'n':>5}"]
    for cls in (*CALL_STATUSES, "contact_story"):
        p, r, f, n = s[cls]
        lines.append(f"  {cls:14}{p:7.3f}{r:7.3f}{f:7.3f}{n:5d}")
    return "\n".join(lines)


def calibration(items: list[dict], preds: list[dict]) -> list[tuple[str, int, float, float]]:
    """(bin, count, mean confidence, observed accuracy) of the call-status decisions."""
    rows = []
    for lo, hi in BINS:
        chosen = [(i, p) for i, p in zip(items, preds, strict=True) if lo <= p["confidence"] < hi]
        if not chosen:
            rows.append((f"{lo:.2f}-{min(hi, 1.0):.2f}", 0, 0.0, 0.0))
            continue
        mean = sum(p["confidence"] for _, p in chosen) / len(chosen)
        acc = sum(1 for i, p in chosen if i["call_status"] == p["call_status"]) / len(chosen)
        rows.append((f"{lo:.2f}-{min(hi, 1.0):.2f}", len(chosen), mean, acc))
    return rows


def expected_calibration_error(items: list[dict], preds: list[dict]) -> float:
    rows = calibration(items, preds)
    total = sum(r[1] for r in rows) or 1
    return sum(r[1] * abs(r[2] - r[3]) for r in rows) / total


def pr_table(items: list[dict], preds: list[dict]) -> list[tuple[float, float, float, int]]:
    """(threshold, precision, recall, alerts) of `unconfirmed` decisions kept at or above
    the confidence threshold."""
    rows = []
    gold = sum(1 for i in items if i["call_status"] == "unconfirmed")
    for t in THRESHOLDS:
        kept = [(i, p) for i, p in zip(items, preds, strict=True)
                if p["call_status"] == "unconfirmed" and p["confidence"] >= t]
        tp = sum(1 for i, _ in kept if i["call_status"] == "unconfirmed")
        rows.append((t, tp / len(kept) if kept else 0.0, tp / gold if gold else 0.0, len(kept)))
    return rows


def recommend(rows: list[tuple[float, float, float, int]], keep: float = 0.9) -> float:
    """The threshold with the best unconfirmed precision among those that keep at least
    `keep` of the recall at threshold 0 (precision first, but an alert nobody gets is no
    alert); the lowest such threshold on ties."""
    floor = keep * rows[0][2]
    usable = [r for r in rows if r[2] >= floor - 1e-9] or rows
    best = max(r[1] for r in usable)
    return min(r[0] for r in usable if r[1] >= best - 1e-9)


def render_tables(items: list[dict], preds: list[dict]) -> str:
    out = ["calibration (call-status decisions): confidence bin, n, mean confidence, accuracy"]
    for name, n, mean, acc in calibration(items, preds):
        out.append(f"  {name:10}{n:5d}{mean:8.3f}{acc:8.3f}" if n else f"  {name:10}{n:5d}")
    out.append(f"  expected calibration error {expected_calibration_error(items, preds):.3f}")
    rows = pr_table(items, preds)
    out.append("unconfirmed per min_confidence: threshold, precision, recall, alerts")
    for t, p, r, n in rows:
        out.append(f"  {t:4.1f}{p:8.3f}{r:8.3f}{n:6d}")
    rec = recommend(rows)
    chosen = next(r for r in rows if r[0] == rec)
    out.append(f"recommended min_confidence {rec:.1f}: unconfirmed precision {chosen[1]:.3f}, "
               f"recall {chosen[2]:.3f}")
    return "\n".join(out)


# --- running ------------------------------------------------------------------------------


def predict(items: list[dict], model=None, rules_only: bool = False) -> list[dict]:
    cues = load_cues()
    out = []
    for item in items:
        kwargs = {"cues": cues}
        if model is not None:
            kwargs["model"] = model
        if rules_only:
            kwargs["model"] = False
        try:
            decision = classify(item.get("title"), item["text"], item.get("language"), **kwargs)
        except TypeError:  # a classifier without a learned layer
            decision = classify(item.get("title"), item["text"], item.get("language"), cues=cues)
        d = decision.to_dict()
        d.setdefault("confidence", 1.0)
        out.append(d)
    return out


def errors(name: str, items: list[dict], preds: list[dict]) -> str:
    lines = [f"errors, {name}:"]
    for i, p in zip(items, preds, strict=True):
        if (i["contact_story"], i["call_status"]) != (p["contact_story"], p["call_status"]):
            lines.append(f"  {i['id']} [{i.get('language')}] {i.get('episode', '')}: gold "
                         f"{i['contact_story']}/{i['call_status']}, predicted "
                         f"{p['contact_story']}/{p['call_status']} ({p['confidence']:.2f})\n"
                         f"      title: {i.get('title')}\n"
                         f"      gold evidence: {i.get('evidence')}\n"
                         f"      our evidence:  {p.get('evidence')}")
    return "\n".join(lines)


def shipped_mode() -> str:
    """Whether the shipped weights decide ("learned") or only give confidence ("rules")."""
    from classify.model import load_model

    model = load_model()
    return model.decide if model is not None else "rules"


def shipped_c() -> float | None:
    """The regularisation the shipped weights were trained with (None: the default)."""
    from classify.model import load_model

    model = load_model()
    return model.c if model is not None else None


def cross_validate(dev: list[dict], tuning: list[dict]) -> tuple[list[dict], list[dict]] | None:
    """Out-of-fold decisions of the learned layer and of the rules alone on `tuning`."""
    try:
        from train_classifier import train
    except ImportError as exc:
        print(f"(no learned layer to cross-validate: {exc})")
        return None
    learned: list[dict | None] = [None] * len(tuning)
    for fold in group_folds(tuning):
        inside = set(fold)
        train_items = dev + [t for j, t in enumerate(tuning) if j not in inside]
        model = train(train_items, shipped_mode(), shipped_c())
        fold_items = [tuning[j] for j in fold]
        for j, p in zip(fold, predict(fold_items, model=model), strict=True):
            learned[j] = p
    return learned, predict(tuning, rules_only=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path,
                        default=Path(os.environ.get("BACKCHANNEL_SHARED", ROOT.parent / "shared")))
    parser.add_argument("--errors", action="store_true",
                        help="list the misclassified items (never those of the held-out part)")
    parser.add_argument("--final", action="store_true", help="also score the held-out part")
    parser.add_argument("--no-cv", action="store_true", help="skip the cross-validation")
    args = parser.parse_args()
    corpus = load_corpus(args.shared)
    if corpus is None:
        print(f"corpus not found under {args.shared / 'corpus'}: nothing to evaluate "
              "(pass --shared or set BACKCHANNEL_SHARED)")
        return 0
    dev, tuning, held = corpus
    print(f"held-out part: {len(held)} items of {len({i['episode'] for i in held})} episodes "
          f"(first {HOLDOUT_FRACTION:.0%} of the episodes in sha256 order of the slug)\n")
    dev_preds, tuning_preds = predict(dev), predict(tuning)
    print(render_scores("in-sample, contacts-dev.jsonl (shipped classifier)",
                        scores(dev, dev_preds)))
    print(render_scores("in-sample, contacts-dev-2.jsonl tuning part (shipped classifier)",
                        scores(tuning, tuning_preds)))
    if args.errors:
        print(errors("contacts-dev.jsonl", dev, dev_preds))
        print(errors("contacts-dev-2.jsonl tuning part", tuning, tuning_preds))
    cv_preds = tuning_preds
    if not args.no_cv:
        cv = cross_validate(dev, tuning)
        if cv is not None:
            learned, rules = cv
            cv_preds = learned
            print()
            print(render_scores("grouped 5-fold CV by episode, contacts-dev-2 tuning part: "
                                "as shipped (decisions and confidence of fold models)",
                                scores(tuning, learned)))
            print(render_scores("same folds, rules alone", scores(tuning, rules)))
    print()
    print(render_tables(tuning, cv_preds))
    if args.final:
        held_preds = predict(held)
        print()
        print(render_scores("UNTOUCHED HELD-OUT PART of contacts-dev-2.jsonl (shipped classifier)",
                            scores(held, held_preds)))
        print(render_tables(held, held_preds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
