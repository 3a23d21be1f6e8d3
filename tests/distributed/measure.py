"""Throughput of the distributed roles on this machine: a farm of feeds (one article
each), one scheduler and 1, 2, 3… workers against a fresh database, timed from the
first task started to the last one finished. Also the extraction cost of one page.

    .venv/bin/python tests/distributed/measure.py [--feeds 240] [--workers 1 2 3]

Uses BACKCHANNEL_TEST_DATABASE_URL, or an embedded PostgreSQL in a temporary folder."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parent.parent)]

import psycopg  # noqa: E402
from farm import Farm, Role  # noqa: E402
from psycopg.conninfo import make_conninfo  # noqa: E402


def extraction_cost(farm: Farm, n: int = 40) -> float:
    from extract.article import extract

    host = farm.hosts[0]
    pages = [(host.base + p, body) for p, (body, _) in host.routes.items()
             if p.startswith("/news/")][:n]
    started = time.process_time()
    for url, body in pages:
        extract(body.decode(), url=url)
    return (time.process_time() - started) / len(pages)


def one_run(server: str, feeds: int, workers: int, tmp: Path) -> dict:
    name = f"m_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    url = make_conninfo(server, dbname=name)
    hosts = 8
    farm = Farm(hosts=hosts, feeds_per_host=feeds // hosts)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKCHANNEL_")}
    env.update(BACKCHANNEL_DATABASE_URL=url, BACKCHANNEL_HOME=str(tmp / "home"),
               BACKCHANNEL_TICK_SECONDS="0.5", BACKCHANNEL_ADAPTIVE_INTERVALS="false",
               BACKCHANNEL_DOWNLOAD_DELAY="0", BACKCHANNEL_KEEP_JOBS="1",
               BACKCHANNEL_HOST_POLLS_PER_TICK="50", BACKCHANNEL_LOG_LEVEL="WARNING")
    sources = tmp / f"{name}.toml"
    sources.write_text(farm.sources_toml(), encoding="utf-8")
    processes = [Role("scheduler", env, sources, tmp / f"{name}-s.log")]
    processes += [Role("worker", env, sources, tmp / f"{name}-w{n}.log")
                  for n in range(workers)]
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                try:
                    done = conn.execute("SELECT count(*) FROM procrastinate_jobs "
                                        "WHERE status = 'succeeded'").fetchone()[0]
                except psycopg.errors.UndefinedTable:
                    done = 0
                if done >= farm.sources:
                    break
                time.sleep(0.5)
            first, last = conn.execute(
                """SELECT min(at) FILTER (WHERE type = 'started'),
                          max(at) FILTER (WHERE type = 'succeeded')
                   FROM procrastinate_events""").fetchone()
            pages = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        seconds = (last - first).total_seconds()
        return {"workers": workers, "feeds": farm.sources, "pages": pages,
                "seconds": round(seconds, 1), "polls_per_s": round(farm.sources / seconds, 2),
                "pages_per_s": round(pages / seconds, 2), "load": os.getloadavg()}
    finally:
        for process in processes:
            process.stop()
        farm.close()
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=240)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="backchannel-measure-"))
    server = os.environ.get("BACKCHANNEL_TEST_DATABASE_URL")
    if not server:
        from archive.embedded import embedded_database_url

        server = embedded_database_url(tmp / "pg")
    print(f"extraction: {extraction_cost(Farm(1, 40)) * 1000:.1f} ms CPU a page", flush=True)
    for workers in args.workers:
        print(one_run(server, args.feeds, workers, tmp), flush=True)


if __name__ == "__main__":
    main()
