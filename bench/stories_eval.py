"""Pairwise precision and recall of story grouping on the dev corpora.

Method: contact stories with an unconfirmed or confirmed call are grouped with
`stories.matching.components` (`same_contact` closed transitively, which is what the
archive does; its outcome does not depend on order). A pair counts as predicted when
both items land in one story, as gold when they share a story key: for
contacts-dev.jsonl the keys of bench/story_labels.json, for contacts-dev-2.jsonl the
items' `episode`. `--labels classifier` takes status and evidence from the classifier
instead of the gold labels (end to end); low-confidence labels are left out.

    .venv/bin/python bench/stories_eval.py [--shared DIR] [--labels gold|classifier] [-v]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
from datetime import datetime
from pathlib import Path

from classify import classify
from stories.matching import STATUSES, Item, components

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BACKCHANNEL_SHARED", ROOT.parent / "shared"))


def load_items(corpus: Path, keys: dict[str, str] | None, use_classifier: bool
               ) -> list[Item]:
    """Items of the corpus that make stories, each with its gold story key in `extra`
    (from `keys`, else the item's episode)."""
    items = []
    for line in corpus.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        key = keys.get(doc["id"]) if keys is not None else doc.get("episode")
        if not key or not doc.get("published") or doc.get("label_confidence") == "low":
            continue
        status, evidence = doc["call_status"], doc.get("evidence")
        if use_classifier:
            decision = classify(doc.get("title"), doc["text"], doc.get("language"))
            status, evidence = decision.call_status, decision.evidence
            if not decision.contact_story:
                status = "none"
        gold_makes_story = doc["contact_story"] and doc["call_status"] in STATUSES
        if status not in STATUSES or not gold_makes_story:
            continue
        items.append(Item(
            id=len(items), outlet=doc["outlet"], title=doc.get("title"), text=doc["text"],
            at=datetime.fromisoformat(doc["published"] + "T12:00:00+00:00"),
            status=status, evidence=evidence, language=doc.get("language"),
            extra={"key": key, "id": doc["id"]}))
    return items


def score(items: list[Item], verbose: bool) -> tuple[float, float, int, int]:
    story_of = {}
    for n, group in enumerate(components(items)):
        for item in group:
            story_of[item.id] = n
    tp = fp = fn = 0
    for a, b in itertools.combinations(items, 2):
        gold = a.extra["key"] == b.extra["key"]
        predicted = story_of[a.id] == story_of[b.id]
        tp += gold and predicted
        fp += predicted and not gold
        fn += gold and not predicted
        if verbose and gold != predicted:
            print("  FP" if predicted else "  FN", a.extra["id"], b.extra["id"])
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, len({i.extra["key"] for i in items}), len(set(story_of.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--keys", type=Path, default=ROOT / "bench" / "story_labels.json")
    parser.add_argument("--labels", choices=["gold", "classifier"], default="gold")
    parser.add_argument("-v", "--verbose", action="store_true", help="list wrong pairs")
    args = parser.parse_args()
    corpus = args.shared / "corpus"
    if not corpus.is_dir():
        print(f"skipped: no corpus in {corpus}")
        return
    keys = json.loads(args.keys.read_text(encoding="utf-8"))["labels"]
    for name, key_map in (("contacts-dev.jsonl", keys), ("contacts-dev-2.jsonl", None)):
        items = load_items(corpus / name, key_map, args.labels == "classifier")
        print(f"{name} ({args.labels} labels):")
        precision, recall, gold, predicted = score(items, args.verbose)
        print(f"  items {len(items)}, gold stories {gold}, predicted stories {predicted}; "
              f"pairwise precision {precision:.3f}  recall {recall:.3f}")


if __name__ == "__main__":
    main()
