"""One crawl pass (and a second, all 304) over a load newsroom: many feeds on one
asyncio server with 100–300 ms latency (tests/reliability/loadroom.py); prints wall
time, pages/s, polls/s, the child's peak RSS and when the last feed was first polled.

    .venv/bin/python bench/load_pass.py [--feeds 2000] [--per-feed 10]
        [--feeds-per-outlet 10] [--concurrency 64] [--per-domain 2] [--json]
        [--scrapy KEY=JSON]... [--pages-after-feeds]

`--scrapy` and `--pages-after-feeds` are experiments, for measuring a crawler change
before making it (or after): the crawl then runs through a wrapper that adds the Scrapy
settings to those of crawler/settings.py, or puts fresh article pages behind every feed
of the pass, as all pages were before they followed their own feed.

Uses BACKCHANNEL_DATABASE_URL if set (a new database is made on that server), else a
throwaway embedded server. Other BACKCHANNEL_* variables in the environment (for
example BACKCHANNEL_DOWNLOAD_TIMEOUT) are passed to the crawl."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "reliability"))

from loadroom import LoadRoom, pass_arguments, passes_json, run_passes  # noqa: E402

WRAPPER = """
import json, sys
patch = json.loads(sys.argv.pop(1))
import crawler.plan
from crawler.spiders import news
settings_of = crawler.plan.scrapy_settings
crawler.plan.scrapy_settings = lambda *a: {**settings_of(*a), **patch["settings"]}
if patch["pages_after_feeds"]:
    news.FRESH_PAGE_PRIORITY = news.OLDER_PAGE_PRIORITY
from backchannel.cli import main
sys.exit(main())
"""


def new_database(server_url: str) -> str:
    import psycopg
    from psycopg.conninfo import make_conninfo

    name = f"load_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    return make_conninfo(server_url, dbname=name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    pass_arguments(parser)
    parser.add_argument("--scrapy", action="append", default=[], metavar="KEY=JSON",
                        help="experiment: an extra Scrapy setting, e.g. "
                             "'SCHEDULER_START_MEMORY_QUEUE=null'")
    parser.add_argument("--pages-after-feeds", action="store_true",
                        help="experiment: every article page behind every feed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="load-pass-") as tmp:
        tmp_path = Path(tmp)
        env = dict(os.environ)
        server = env.get("BACKCHANNEL_DATABASE_URL")
        if not server:
            from archive.embedded import embedded_database_url

            server = embedded_database_url(tmp_path / "pg")
        env.update(BACKCHANNEL_DATABASE_URL=new_database(server),
                   BACKCHANNEL_HOME=str(tmp_path / "home"), PYTHONUNBUFFERED="1",
                   BACKCHANNEL_CONCURRENT_REQUESTS=str(args.concurrency),
                   BACKCHANNEL_CONCURRENT_REQUESTS_PER_DOMAIN=str(args.per_domain))
        env.setdefault("BACKCHANNEL_DOWNLOAD_DELAY", "0")
        with LoadRoom(args.feeds, args.per_feed, args.feeds_per_outlet) as room:
            sources = tmp_path / "sources.toml"
            sources.write_text(room.sources_toml(), encoding="utf-8")
            command = [sys.executable, "-m", "backchannel"]
            if args.scrapy or args.pages_after_feeds:
                extra = dict(item.split("=", 1) for item in args.scrapy)
                patch = {"settings": {k: json.loads(v) for k, v in extra.items()},
                         "pages_after_feeds": args.pages_after_feeds}
                command = [sys.executable, "-c", WRAPPER, json.dumps(patch)]
            command += ["crawl", "--all", "--sources", str(sources)]
            results = run_passes(room, command, env, ROOT, tmp_path, args)
    if args.json:
        print(passes_json(args, results))
    return 0 if all(r["returncode"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
