"""`reprocess` speed: articles per second through the stages again (extract from the raw
page, classify, stories) over N stored pages, on one core. The pages are the public
article-extraction benchmark's and the seeds (from ../shared), stored under distinct
URLs and dated over two months, as an older extractor would have left them.

    .venv/bin/python bench/reprocess_speed.py [--pages 10000] [--shared ../shared]

Uses BACKCHANNEL_DATABASE_URL when set, else a scratch embedded PostgreSQL (removed)."""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.db import connect  # noqa: E402
from archive.embedded import embedded_database_url  # noqa: E402
from pipeline.reprocess import reprocess, selection_for  # noqa: E402


def pages(shared: Path) -> list[bytes]:
    found = [gzip.decompress(p.read_bytes())
             for p in sorted((shared / "bench" / "article-extraction" / "html").glob("*.gz"))]
    for seed in sorted((shared / "seeds").glob("*.txt")):
        paragraphs = "".join(f"<p>{line}</p>" for line in
                             seed.read_text(encoding="utf-8").splitlines() if line.strip())
        found.append(f"<html><body><article>{paragraphs}</article></body></html>".encode())
    return found


def fill(conn, bodies: list[bytes], count: int) -> None:
    """`count` stored pages, cycling through the bodies, in an outlet each of 50."""
    start = datetime(2025, 2, 1, tzinfo=UTC)
    with conn.cursor() as cur:
        outlets = [cur.execute("INSERT INTO outlets (name) VALUES (%s) RETURNING id",
                               (f"Outlet {n}",)).fetchone()["id"] for n in range(50)]
        rows = []
        for n in range(count):
            rows.append((f"https://outlet{n % 50}.example/a/{n}", outlets[n % 50],
                         f"Outlet {n % 50}", zlib.compress(bodies[n % len(bodies)], 6),
                         start + timedelta(minutes=9 * n)))
        cur.executemany(
            "INSERT INTO articles (url, outlet_id, outlet, raw_page, content_type, "
            "content_sha256, published_at, text) VALUES (%s, %s, %s, %s, 'text/html', '', "
            "%s, '')", rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    if not (args.shared / "bench" / "article-extraction").is_dir():
        print(f"skipped: the extraction benchmark is not in {args.shared}", file=sys.stderr)
        return 0
    scratch = None
    url = os.environ.get("BACKCHANNEL_DATABASE_URL")
    if not url:
        scratch = Path(tempfile.mkdtemp(prefix="backchannel-bench-"))
        url = embedded_database_url(scratch)
    try:
        conn = connect(url)
        conn.execute("TRUNCATE articles, outlets, stories, story_events, reprocess_runs "
                     "RESTART IDENTITY CASCADE")
        fill(conn, pages(args.shared), args.pages)
        print(f"{args.pages} stored pages; reprocessing…", flush=True)
        wall, cpu = time.perf_counter(), time.process_time()
        summary = reprocess(conn, selection_for("extract"), batch_size=args.batch_size)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        stories = conn.execute("SELECT count(*) AS n FROM stories").fetchone()["n"]
        print(f"reprocessed {summary.seen} articles ({summary.changed} changed, "
              f"{summary.not_articles} not articles, {len(summary.errors)} errors); "
              f"{stories} stories")
        print(f"wall {wall:.1f} s: {summary.seen / wall:.1f} articles/s; "
              f"CPU of this process {cpu:.1f} s: {summary.seen / cpu:.1f} articles/s per core")
        again = time.perf_counter()
        second = reprocess(conn, selection_for("extract"))
        print(f"second run: {second.seen} articles in {time.perf_counter() - again:.2f} s")
        conn.close()
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
