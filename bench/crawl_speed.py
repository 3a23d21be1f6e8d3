"""Pages per second through fetch + extract + store: `backchannel crawl` against a
local test newsroom of generated articles, into a real PostgreSQL.

    .venv/bin/python bench/crawl_speed.py [--outlets 10] [--articles 40]

Uses BACKCHANNEL_DATABASE_URL if set, else a throwaway embedded server."""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from newsroom import Newsroom, Route, article_html, rss_feed  # noqa: E402

WORDS = ("the minister said talks would continue next week while officials in both capitals "
         "declined to comment on reports of a phone call between the two leaders about "
         "sanctions energy prices security guarantees and prisoner exchanges according to "
         "people familiar with the matter who spoke on condition of anonymity").split()


def paragraph(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(40, 90))]
    return " ".join(words).capitalize() + "."


def build(newsroom: Newsroom, outlets: int, per_outlet: int, seed: int = 7) -> dict[str, list]:
    rng = random.Random(seed)
    when = datetime(2025, 3, 1, tzinfo=UTC)
    layout = {}
    for o in range(outlets):
        site = newsroom.site(f"Bench Outlet {o}")
        items = []
        for a in range(per_outlet):
            path = f"/news/{a}.html"
            url = site.url(path)
            published = when + timedelta(minutes=a)
            site.routes[path] = Route(article_html(
                f"Report {a} from outlet {o}", [paragraph(rng) for _ in range(rng.randint(6, 14))],
                published, "Bench Desk", site.name, url))
            items.append({"title": f"Report {a}", "link": url, "guid": f"{o}-{a}",
                          "published": published})
        site.routes["/rss.xml"] = Route(rss_feed(site.name, site.base, items),
                                        content_type="application/rss+xml", conditional=True)
        layout[site.name] = ["/rss.xml"]
    return layout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outlets", type=int, default=10)
    parser.add_argument("--articles", type=int, default=40, help="articles per outlet")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        if not env.get("BACKCHANNEL_DATABASE_URL"):
            from archive.embedded import embedded_database_url

            env["BACKCHANNEL_DATABASE_URL"] = embedded_database_url(Path(tmp) / "pg")
        env.update(BACKCHANNEL_HOME=tmp, BACKCHANNEL_DOWNLOAD_DELAY="0",
                   BACKCHANNEL_CONCURRENT_REQUESTS_PER_DOMAIN="8")
        newsroom = Newsroom()
        try:
            layout = build(newsroom, args.outlets, args.articles)
            sources = Path(tmp) / "sources.toml"
            sources.write_text(newsroom.sources_toml(layout))
            subprocess.run([sys.executable, "-m", "backchannel", "init"], env=env, check=True,
                           capture_output=True)
            start = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "backchannel", "crawl", "--all",
                                     "--sources", str(sources)], env=env, capture_output=True,
                                    text=True)
            elapsed = time.perf_counter() - start
        finally:
            newsroom.close()
    pages = args.outlets * args.articles
    print(result.stdout.strip())
    if result.returncode != 0:
        print(result.stderr[-2000:], file=sys.stderr)
        return 1
    print(f"{pages} pages in {elapsed:.1f} s (whole command, start-up included): "
          f"{pages / elapsed:.1f} pages/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
