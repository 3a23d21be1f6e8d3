"""Articles per second through the classifier on one core, on article-length text: each
labelled corpus item and seed page from shared/, padded to at least 4,000 characters with
the text of the items after it (as a page carries related stories), repeated. The crawl
must not wait for the classifier (target: at least 300 articles per second).

    .venv/bin/python bench/classify_speed.py [--repeat 20] [--shared ../shared]"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classify import CLASSIFIER_VERSION, classify, load_cues  # noqa: E402

TARGET = 300.0  # articles per second


MIN_CHARS = 4000  # article length: a real page's text, not a corpus excerpt


def load_articles(shared: Path) -> list[tuple[str | None, str, str | None]]:
    """(title, text, language) of every corpus item and seed page, each text padded to
    MIN_CHARS with the paragraphs of the items after it."""
    items = []
    for name in ("contacts-dev.jsonl", "contacts-dev-2.jsonl"):
        corpus = shared / "corpus" / name
        if corpus.is_file():
            for line in corpus.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    item = json.loads(line)
                    items.append((item.get("title"), item["text"], item.get("language")))
    for seed in sorted((shared / "seeds").glob("*.txt")):
        items.append((None, seed.read_text(encoding="utf-8"), None))
    articles = []
    for k, (title, text, language) in enumerate(items):
        j = k + 1
        while len(text) < MIN_CHARS and len(items) > 1:
            text += "\n\n" + items[j % len(items)][1]
            j += 1
        articles.append((title, text, language))
    return articles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="passes over the articles")
    parser.add_argument("--shared", type=Path,
                        default=Path(os.environ.get("BACKCHANNEL_SHARED", ROOT.parent / "shared")))
    args = parser.parse_args()
    articles = load_articles(args.shared)
    if not articles:
        print(f"no corpus or seeds under {args.shared}", file=sys.stderr)
        return 2
    cues = load_cues()  # compiled once, as in the crawler
    classify(*articles[0], cues=cues)  # warm-up
    chars = sum(len(text) for _, text, _ in articles) * args.repeat
    started = time.perf_counter()
    for _ in range(args.repeat):
        for title, text, language in articles:
            classify(title, text, language, cues=cues)
    elapsed = time.perf_counter() - started
    count = len(articles) * args.repeat
    rate = count / elapsed
    print(f"classifier {CLASSIFIER_VERSION}: {count} articles ({chars / count:.0f} chars "
          f"on average) in {elapsed:.2f} s = {rate:.0f} articles/s "
          f"(target {TARGET:.0f}: {'ok' if rate >= TARGET else 'TOO SLOW'})")
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
