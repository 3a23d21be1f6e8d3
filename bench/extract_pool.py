"""Pages per second through the extraction children (pipeline.isolated.WorkerPool) with
one child and with one per core, on the real pages of the extraction benchmark: what
the pool gains where extraction and classification are the work.

    PYTHONPATH=. .venv/bin/python bench/extract_pool.py [--shared ../shared] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extract.outlets import OutletDirectory  # noqa: E402
from pipeline.isolated import WorkerPool, pool_size  # noqa: E402
from pipeline.page import FetchedPage, NotAnArticle  # noqa: E402


def pages(shared: Path) -> list[FetchedPage]:
    folder = shared / "bench" / "article-extraction" / "html"
    found = []
    for path in sorted(folder.iterdir()):
        body = path.read_bytes()
        if path.suffix == ".gz":
            body = gzip.decompress(body)
        url = f"https://bench.example/{path.name.split('.')[0]}"
        found.append(FetchedPage(url=url, final_url=url, status=200,
                                 content_type="text/html", body=body))
    return found


def rate(size: int, work: list[FetchedPage]) -> float:
    pool = WorkerPool(size)
    directory = OutletDirectory()

    def one(page: FetchedPage) -> None:
        try:
            pool.process(page, directory, timeout=60)
        except NotAnArticle:
            pass

    with ThreadPoolExecutor(size) as waiter:
        list(waiter.map(one, work[:size]))  # children started and warm
        started = time.perf_counter()
        list(waiter.map(one, work))
        seconds = time.perf_counter() - started
    return len(work) / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(
        os.environ.get("BACKCHANNEL_SHARED", ROOT.parent / "shared")))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not (args.shared / "bench" / "article-extraction" / "html").is_dir():
        print(f"extraction benchmark pages not found under {args.shared}", file=sys.stderr)
        return 2
    work = pages(args.shared) * args.repeat
    cores = pool_size(0)
    one = rate(1, work)
    many = rate(cores, work)
    print(f"{len(work)} real pages: 1 child {one:.1f} pages/s; {cores} children "
          f"{many:.1f} pages/s ({many / one:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
