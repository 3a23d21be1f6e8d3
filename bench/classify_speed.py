"""Articles per second through the classifier on one core: the labelled dev corpus and
the seed pages from shared/, repeated. The crawl must not wait for the classifier
(target: at least 300 articles per second).

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


def load_articles(shared: Path) -> list[tuple[str | None, str, str | None]]:
    """(title, text, language) of every dev-corpus item and seed page."""
    articles = []
    corpus = shared / "corpus" / "contacts-dev.jsonl"
    if corpus.is_file():
        for line in corpus.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                articles.append((item.get("title"), item["text"], item.get("language")))
    for seed in sorted((shared / "seeds").glob("*.txt")):
        articles.append((None, seed.read_text(encoding="utf-8"), None))
    return articles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the articles")
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
