"""`backchannel eval FILE`: measure the classifier on labelled JSON Lines, beside a naive
keyword baseline (both leaders named and a call word), so that every change to the
rules or the cue file is judged against the same yardstick."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from classify import CALL_STATUSES, CueError, classify, load_cues, normalize

# The baseline: what a keyword alert would do. Its words are deliberately few.
BASELINE_RUSSIA = ("putin", "путин", "путін", "poutine", "πουτιν", "بوتين", "putyin", "poetin")
BASELINE_US = ("trump", "трамп", "biden", "байден", "obama", "обам", "τραμπ", "ترامب", "тръмп")
BASELINE_CALL = (
    "call", "phone", "spoke", "spoken", "talk", "conversation", "meeting", "звон", "телефон",
    "разговор", "розмов", "дзвін", "telefon", "gesprach", "appel", "llamad", "rozmow",
    "razgovor", "τηλεφων", "مكالمة", "اتصال",
)


@dataclass
class Scores:
    """Confusion matrix of call_status and counts for contact_story."""

    matrix: dict[str, dict[str, int]] = field(
        default_factory=lambda: {g: dict.fromkeys(CALL_STATUSES, 0) for g in CALL_STATUSES})
    story: dict[str, int] = field(default_factory=lambda: {"tp": 0, "fp": 0, "fn": 0, "tn": 0})

    def add(self, gold_story: bool, gold_status: str, story: bool, status: str) -> None:
        self.matrix[gold_status][status] += 1
        key = ("tp" if story else "fn") if gold_story else ("fp" if story else "tn")
        self.story[key] += 1

    def per_class(self) -> dict[str, dict[str, float]]:
        out = {}
        for cls in CALL_STATUSES:
            tp = self.matrix[cls][cls]
            predicted = sum(self.matrix[g][cls] for g in CALL_STATUSES)
            gold = sum(self.matrix[cls].values())
            out[cls] = prf(tp, predicted - tp, gold - tp) | {"support": gold}
        return out

    def contact_story(self) -> dict[str, float]:
        s = self.story
        return prf(s["tp"], s["fp"], s["fn"]) | {"support": s["tp"] + s["fn"]}

    def accuracy(self) -> float:
        total = sum(sum(row.values()) for row in self.matrix.values())
        right = sum(self.matrix[c][c] for c in CALL_STATUSES)
        return right / total if total else 0.0

    def to_dict(self) -> dict:
        return {
            "confusion": self.matrix,
            "call_status": self.per_class(),
            "contact_story": self.contact_story(),
            "accuracy": round(self.accuracy(), 4),
        }


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Precision, recall and F1; 0 where undefined."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def baseline(title: str | None, text: str) -> tuple[bool, str]:
    """Both leaders named and a call word: a contact story, reported as unconfirmed."""
    norm = normalize(f"{title or ''}\n{text}")
    hit = (any(w in norm for w in BASELINE_RUSSIA) and any(w in norm for w in BASELINE_US)
           and any(w in norm for w in BASELINE_CALL))
    return hit, ("unconfirmed" if hit else "none")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="score the classifier on labelled JSON Lines, beside a keyword baseline",
        description=(
            "Classify each labelled line (id, title, text, language?, gold contact_story "
            "and call_status) and print the call_status confusion matrix, per-class "
            "precision, recall and F1 and contact_story F1, for the classifier and for a "
            "naive baseline (both leaders named and a call word => unconfirmed)."
        ),
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="labelled JSON Lines")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--cues", type=Path, metavar="TOML",
                        help="a cue file to use instead of the shipped one")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings) -> int:
    try:
        cues = load_cues(args.cues)
        lines = args.file.read_text(encoding="utf-8").splitlines()
    except CueError as exc:
        print(f"backchannel eval: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"backchannel eval: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    ours, base = Scores(), Scores()
    errors: list[dict] = []
    decided: list[tuple[str, str, float]] = []  # gold status, predicted status, confidence
    bad_lines = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        item, problem = read_labelled(line)
        if problem:
            print(f"backchannel eval: line {number}: {problem}", file=sys.stderr)
            bad_lines += 1
            continue
        gold_story, gold_status = bool(item["contact_story"]), item["call_status"]
        decision = classify(item.get("title"), item["text"], item.get("language"), cues=cues)
        ours.add(gold_story, gold_status, decision.contact_story, decision.call_status)
        decided.append((gold_status, decision.call_status, decision.confidence))
        base.add(gold_story, gold_status, *baseline(item.get("title"), item["text"]))
        if (decision.contact_story, decision.call_status) != (gold_story, gold_status):
            errors.append({"id": item.get("id"), "gold": [gold_story, gold_status],
                           "predicted": [decision.contact_story, decision.call_status],
                           "evidence": decision.evidence})
    if args.format == "json":
        report = {"items": sum(ours.story.values()), "classifier": ours.to_dict(),
                  "baseline": base.to_dict(), "errors": errors, "bad_lines": bad_lines,
                  "unconfirmed_by_min_confidence": by_threshold(decided)}
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(render(ours, base, errors))
        print(render_thresholds(by_threshold(decided)))
    return 1 if bad_lines else 0


def read_labelled(line: str) -> tuple[dict, str | None]:
    """Parse one labelled line, or say what is wrong with it."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return {}, f"invalid JSON: {exc.msg}"
    if not isinstance(item, dict):
        return {}, "not a JSON object"
    if not isinstance(item.get("text"), str):
        return item, 'missing "text"'
    if item.get("call_status") not in CALL_STATUSES:
        return item, f"gold call_status must be one of {', '.join(CALL_STATUSES)}"
    if not isinstance(item.get("contact_story"), bool):
        return item, "gold contact_story must be true or false"
    return item, None


def render(ours: Scores, base: Scores, errors: list[dict]) -> str:
    """The human-readable report."""
    out = [f"{sum(ours.story.values())} items", ""]
    for name, scores in (("classifier", ours), ("baseline", base)):
        out.append(f"call_status confusion, {name} (rows gold, columns predicted)")
        out.append(f"{'':14}" + "".join(f"{c:>13}" for c in CALL_STATUSES))
        for gold in CALL_STATUSES:
            out.append(f"{gold:14}" + "".join(f"{scores.matrix[gold][c]:>13}"
                                              for c in CALL_STATUSES))
        out.append("")
    out.append(f"{'':15}{'classifier':^26}   {'baseline':^26}")
    out.append(f"{'':15}" + f"{'P':>8}{'R':>8}{'F1':>8}   " * 2 + "support")
    rows = [(c, ours.per_class()[c], base.per_class()[c]) for c in CALL_STATUSES]
    rows.append(("contact_story", ours.contact_story(), base.contact_story()))
    for label, a, b in rows:
        cells = "".join(f"{a[k]:>8.3f}" for k in ("precision", "recall", "f1")) + "   "
        cells += "".join(f"{b[k]:>8.3f}" for k in ("precision", "recall", "f1")) + "   "
        out.append(f"{label:15}{cells}{a['support']}")
    out.append(f"{'accuracy':15}{ours.accuracy():>24.3f}   {base.accuracy():>24.3f}")
    if errors:
        out += ["", f"misclassified ({len(errors)}):"]
        for e in errors:
            out.append(f"  {e['id']}: gold {e['gold'][0]}/{e['gold'][1]}, "
                       f"predicted {e['predicted'][0]}/{e['predicted'][1]}")
    return "\n".join(out)


THRESHOLDS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9)


def by_threshold(decided: list[tuple[str, str, float]]) -> list[dict]:
    """Precision and recall of `unconfirmed` (what alerts are sent for) when only the
    decisions with a confidence of at least each threshold are kept."""
    gold = sum(1 for g, _, _ in decided if g == "unconfirmed")
    rows = []
    for t in THRESHOLDS:
        kept = [g for g, p, c in decided if p == "unconfirmed" and c >= t]
        tp = sum(1 for g in kept if g == "unconfirmed")
        rows.append({"min_confidence": t, "alerts": len(kept),
                     "precision": round(tp / len(kept), 4) if kept else 0.0,
                     "recall": round(tp / gold, 4) if gold else 0.0})
    return rows


def render_thresholds(rows: list[dict]) -> str:
    out = ["", "unconfirmed by min_confidence",
           f"{'min_confidence':>15}{'P':>8}{'R':>8}{'alerts':>8}"]
    for r in rows:
        out.append(f"{r['min_confidence']:>15.1f}{r['precision']:>8.3f}{r['recall']:>8.3f}"
                   f"{r['alerts']:>8}")
    return "\n".join(out)
