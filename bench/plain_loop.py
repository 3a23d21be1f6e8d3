"""The baseline of issue 21: the plain asyncio script a competent user would write
instead of backchannel, over the same load newsroom as bench/load_pass.py.

httpx with the same limits (so many requests at once, so many per host), every feed
read with feedparser, every new article page fetched and run through
`trafilatura.extract`, nothing stored; a second pass sends each feed's ETag and
Last-Modified back (all 304, nothing else fetched). No robots.txt, no retries, no
database, no classification: what backchannel costs over this is what it does more.

    .venv/bin/python bench/plain_loop.py [--feeds 2000] [--per-feed 10]
        [--feeds-per-outlet 10] [--concurrency 64] [--per-domain 2] [--json]

Each pass runs in a child process (this script again, with `--child`), measured as
load_pass measures the crawl (loadroom.run_measured: wall, CPU, peak RSS); the figures
are printed in load_pass's words, then the CPU time per extracted page. Between the
passes the child keeps the validators and the links it has seen in a JSON file.
The loop is one process, so its CPU is all of it; for the crawl, load_pass's "crawler
CPU" counts its page workers (pipeline.isolated) too."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "reliability"))

from loadroom import LoadRoom, pass_arguments, passes_json, run_passes  # noqa: E402


async def crawl(state: dict, concurrency: int, per_domain: int) -> str:
    """One pass over state["feeds"]; updates state's validators and seen links."""
    import feedparser
    import httpx
    import trafilatura

    validators: dict[str, dict[str, str]] = state.setdefault("validators", {})
    seen: set[str] = set(state.get("seen", []))
    slots = asyncio.Semaphore(concurrency)
    hosts: dict[str, asyncio.Semaphore] = {}
    counts = dict(polled=0, not_modified=0, pages=0, extracted=0, failed=0)

    async def get(client: httpx.AsyncClient, url: str,
                  headers: dict[str, str] | None = None) -> httpx.Response | None:
        host = hosts.setdefault(urlsplit(url).netloc, asyncio.Semaphore(per_domain))
        try:
            async with host, slots:  # the host's slot first: no global slot held idle
                return await client.get(url, headers=headers)
        except httpx.HTTPError:
            counts["failed"] += 1
            return None

    async def page(client: httpx.AsyncClient, url: str) -> None:
        response = await get(client, url)
        if response is None:
            return
        if response.status_code != 200:
            counts["failed"] += 1
            return
        counts["pages"] += 1
        if trafilatura.extract(response.text, url=url):
            counts["extracted"] += 1

    async def feed(client: httpx.AsyncClient, url: str) -> None:
        known = validators.get(url, {})
        headers = {name: known[key] for name, key in
                   (("If-None-Match", "etag"), ("If-Modified-Since", "last_modified"))
                   if key in known}
        response = await get(client, url, headers)
        if response is None:
            return
        counts["polled"] += 1
        if response.status_code == 304:
            counts["not_modified"] += 1
            return
        if response.status_code != 200:
            counts["failed"] += 1
            return
        validators[url] = {key: response.headers[name] for name, key in
                           (("ETag", "etag"), ("Last-Modified", "last_modified"))
                           if name in response.headers}
        links = [e.get("link") for e in feedparser.parse(response.content).entries]
        new = [link for link in links if link and link not in seen]
        seen.update(new)
        await asyncio.gather(*(page(client, link) for link in new))

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(feed(client, url) for url in state["feeds"]))
    state["seen"] = sorted(seen)
    return ("polled {polled} feeds ({not_modified} not modified), fetched {pages} pages, "
            "extracted {extracted} ({failed} failed)").format(**counts)


def child(state_path: Path, concurrency: int, per_domain: int) -> int:
    state = json.loads(state_path.read_text(encoding="utf-8"))
    print(asyncio.run(crawl(state, concurrency, per_domain)))
    state_path.write_text(json.dumps(state), encoding="utf-8")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    pass_arguments(parser)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.concurrency, args.per_domain)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    results: dict[str, dict] = {}
    with (tempfile.TemporaryDirectory(prefix="plain-loop-") as tmp,
          LoadRoom(args.feeds, args.per_feed, args.feeds_per_outlet) as room):
        state = Path(tmp) / "state.json"
        state.write_text(json.dumps({"feeds": [room.feed_url(f) for f in range(args.feeds)]}),
                         encoding="utf-8")
        command = [sys.executable, str(Path(__file__).resolve()), "--child", str(state),
                   "--concurrency", str(args.concurrency), "--per-domain", str(args.per_domain)]
        results = run_passes(room, command, env, ROOT, Path(tmp), args)
    first = results["first"]
    per_page = 1000 * first["cpu_seconds"] / max(1, first["pages"])
    if args.json:
        print(passes_json(args, results, cpu_ms_per_page=per_page))
    else:
        print(f"per page: {per_page:.1f} ms of CPU a page fetched and extracted (first pass, "
              f"{first['cpu_seconds']:.1f} s over {first['pages']} pages)")
    return 0 if all(r["returncode"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
