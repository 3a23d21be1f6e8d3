"""Pairwise precision and recall of story grouping on the dev corpus.

Method: the items labelled in bench/story_labels.json (contact stories with an
unconfirmed or confirmed call, gold status and evidence) are grouped with
`stories.matching.same_contact` closed transitively, which is what `assign_story` does in
PostgreSQL (its outcome does not depend on order). A pair counts as predicted when both
items land in one story, as gold when they share a story key.

    .venv/bin/python bench/stories_eval.py [--corpus FILE] [--labels FILE] [-v]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
from datetime import datetime
from pathlib import Path

from stories.matching import Item, same_contact

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BACKCHANNEL_SHARED", ROOT.parent / "shared"))


def load_items(corpus: Path, labels: dict[str, str]) -> list[Item]:
    items = []
    for line in corpus.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        if doc["id"] not in labels or not doc.get("published"):
            continue
        items.append(Item(
            id=len(items), outlet=doc["outlet"], title=doc.get("title"), text=doc["text"],
            at=datetime.fromisoformat(doc["published"] + "T12:00:00+00:00"),
            status=doc["call_status"], evidence=doc.get("evidence"),
            language=doc.get("language"), extra={"key": doc["id"]}))
    return items


def group(items: list[Item]) -> list[int]:
    """Union-find over the pairwise rule: the story index of each item."""
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in itertools.combinations(range(len(items)), 2):
        if same_contact(items[a], items[b]):
            parent[find(a)] = find(b)
    return [find(i) for i in range(len(items))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "contacts-dev.jsonl")
    parser.add_argument("--labels", type=Path, default=ROOT / "bench" / "story_labels.json")
    parser.add_argument("-v", "--verbose", action="store_true", help="list wrong pairs")
    args = parser.parse_args()
    labels = json.loads(args.labels.read_text(encoding="utf-8"))["labels"]
    items = load_items(args.corpus, labels)
    stories = group(items)
    tp = fp = fn = 0
    for a, b in itertools.combinations(range(len(items)), 2):
        gold = labels[items[a].extra["key"]] == labels[items[b].extra["key"]]
        predicted = stories[a] == stories[b]
        tp += gold and predicted
        fp += predicted and not gold
        fn += gold and not predicted
        if args.verbose and gold != predicted:
            print("FP" if predicted else "FN", items[a].extra["key"], items[b].extra["key"])
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"items {len(items)}, gold stories {len({labels[i.extra['key']] for i in items})}, "
          f"predicted stories {len(set(stories))}")
    print(f"pairs: gold {tp + fn}, predicted {tp + fp}, correct {tp}")
    print(f"pairwise precision {precision:.3f}  recall {recall:.3f}")


if __name__ == "__main__":
    main()
