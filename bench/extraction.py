"""Article-body extraction benchmark: runs `extract.article.extract` (the crawl's own code
path) over the public article-extraction benchmark and scores it with the benchmark's
published metric, computed here from the files on every run.

    .venv/bin/python bench/extraction.py [--limit N] [--baseline] [--data DIR]

Metric (as in the benchmark's evaluate.py): `\\w+` tokens, word 4-gram shingles with
counts; per page TP = shared shingles (with multiplicity), FP, FN, normalised to sum to 1.
Precision is averaged over pages where something was predicted (TP+FP > 0), recall over
pages with a ground truth (TP+FN > 0); a page where we extract nothing thus counts as
recall 0 and is left out of precision, exactly as the published figures do. F1 comes
from the two averages. A text shorter than four tokens is one shorter shingle.

Metadata: "date found" is the share of pages with a non-empty published date. The
page's headline is the JSON-LD `headline` of an article object, else og:title, else the
first <h1>; "title match" is the share of pages with a headline whose extracted title
has the same `\\w+` tokens (case-folded).
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import lxml.html

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

DEFAULT_DATA = Path("/work/shared/bench/article-extraction")
_TOKEN = re.compile(r"\w+", re.UNICODE)

Shingle = tuple[str, ...]


# --- the metric -----------------------------------------------------------------------


def tokens(text: str | None) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(text: str | None, n: int = 4) -> Counter[Shingle]:
    """Word n-grams with counts; a text of fewer than n tokens is one shorter shingle."""
    words = tokens(text)
    grams = (tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1)))
    return Counter(g for g in grams if g)


def page_counts(true: str | None, pred: str | None) -> tuple[float, float, float]:
    """TP, FP, FN over shingles for one page, normalised to sum to 1 (if non-zero)."""
    t, p = shingles(true), shingles(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    total = tp + fp + fn
    if total == 0:
        return 0.0, 0.0, 0.0
    return tp / total, fp / total, fn / total


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def score(counts: Iterable[tuple[float, float, float]]) -> dict[str, float]:
    """F1, precision, recall from per-page (TP, FP, FN), as the benchmark averages them."""
    counts = list(counts)
    precisions = [_precision(*c) for c in counts if c[0] + c[1] > 0]
    recalls = [_recall(*c) for c in counts if c[0] + c[2] > 0]
    precision = statistics.mean(precisions) if precisions else 0.0
    recall = statistics.mean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": f1, "precision": precision, "recall": recall}


# --- metadata ---------------------------------------------------------------------------


def page_headline(page: str) -> str | None:
    """The page's own headline: JSON-LD article headline, else og:title, else first h1."""
    try:
        tree = lxml.html.fromstring(page)
    except (ValueError, lxml.etree.ParserError):
        return None
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text_content())
        except (ValueError, TypeError):
            continue
        for obj in _json_objects(data):
            kind = obj.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if any(isinstance(k, str) and k.endswith(("Article", "Posting")) for k in kinds):
                if isinstance(obj.get("headline"), str) and obj["headline"].strip():
                    return html.unescape(obj["headline"]).strip()
    for content in tree.xpath('//meta[@property="og:title"]/@content'):
        if content.strip():
            return content.strip()
    for h1 in tree.xpath("//h1"):
        text = h1.text_content().strip()
        if text:
            return text
    return None


def _json_objects(data: object) -> Iterable[dict]:
    if isinstance(data, dict):
        yield data
        for value in data.values():
            if isinstance(value, dict | list):
                yield from _json_objects(value)
    elif isinstance(data, list):
        for item in data:
            yield from _json_objects(item)


def same_title(a: str | None, b: str | None) -> bool:
    return bool(a and b) and [w.casefold() for w in tokens(a)] == [w.casefold() for w in tokens(b)]


# --- running --------------------------------------------------------------------------


@dataclass
class Page:
    id: str
    raw: bytes
    url: str
    truth: str


@dataclass
class Result:
    text: str
    title: str | None = None
    published: str | None = None


def load_pages(data: Path, limit: int | None = None) -> list[Page]:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(truth)[:limit]:
        raw = gzip.decompress((data / "html" / f"{page_id}.html.gz").read_bytes())
        item = truth[page_id]
        pages.append(Page(page_id, raw, item.get("url") or "", item.get("articleBody") or ""))
    return pages


def ours(page: Page) -> Result:
    from extract.article import extract

    found = extract(page.raw, url=page.url or None)
    return Result(found.text, found.title, found.published)


def trafilatura_defaults(page: Page) -> Result:
    """What the benchmark's own trafilatura runner does (text read as UTF-8, defaults,
    comments off), with the metadata of the same call."""
    import trafilatura

    html = page.raw.decode("utf-8", "replace")
    doc = trafilatura.bare_extraction(html, include_comments=False, with_metadata=True)
    if doc is None:
        return Result("")
    return Result(doc.text or "", doc.title, doc.date)


def run(pages: list[Page], extractor: Callable[[Page], Result]) -> dict[str, float]:
    """Extract every page (timed), then score text and metadata. Speed is pages per
    second of this process's CPU time (one core, not skewed by other load on the
    machine); the wall-clock figure is given beside it."""
    started, cpu_started = time.perf_counter(), time.process_time()
    results = [extractor(page) for page in pages]
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    figures = score(page_counts(p.truth, r.text) for p, r in zip(pages, results, strict=True))
    headlines = [page_headline(p.raw.decode("utf-8", "replace")) for p in pages]
    with_headline = [(h, r) for h, r in zip(headlines, results, strict=True) if h]
    figures["pages_per_second"] = len(pages) / cpu if cpu else 0.0
    figures["pages_per_second_wall"] = len(pages) / elapsed if elapsed else 0.0
    figures["date_found"] = sum(1 for r in results if r.published) / len(pages)
    figures["title_match"] = (
        sum(1 for h, r in with_headline if same_title(h, r.title)) / len(with_headline)
        if with_headline
        else 0.0
    )
    figures["empty"] = sum(1 for r in results if not r.text.strip())
    figures["pages"] = len(pages)
    return figures


def report(name: str, f: dict[str, float]) -> str:
    return (
        f"{name:<12} F1={f['f1']:.3f}  precision={f['precision']:.3f}  "
        f"recall={f['recall']:.3f}  pages/s={f['pages_per_second']:.1f} "
        f"(wall {f['pages_per_second_wall']:.1f})  "
        f"date found={f['date_found']:.1%}  title match={f['title_match']:.1%}  "
        f"empty={f['empty']}/{f['pages']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N pages (by id)")
    parser.add_argument("--baseline", action="store_true", help="also plain trafilatura")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="benchmark folder")
    parser.add_argument("--dump", type=Path, help="write per-page scores as JSON here")
    args = parser.parse_args(argv)
    if not (args.data / "ground-truth.json").exists():
        print(f"no benchmark at {args.data}", file=sys.stderr)
        return 2
    pages = load_pages(args.data, args.limit)
    ours(pages[0])  # import and warm up outside the timing
    print(report("backchannel", run(pages, ours)))
    if args.baseline:
        trafilatura_defaults(pages[0])
        print(report("trafilatura", run(pages, trafilatura_defaults)))
    if args.dump:
        from extract.article import extract

        rows = []
        for page in pages:
            text = extract(page.raw, url=page.url or None).text
            tp, fp, fn = page_counts(page.truth, text)
            rows.append({"id": page.id, "url": page.url, "tp": tp, "fp": fp, "fn": fn})
        args.dump.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
