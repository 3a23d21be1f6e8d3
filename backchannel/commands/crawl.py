"""`backchannel crawl`: one pass over due sources, then exit (for cron)."""

from __future__ import annotations

import sys
from pathlib import Path

from crawler.run import crawl_once
from crawler.sources import SourcesError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "crawl", help="one pass: poll due sources, fetch, extract, store; exit"
    )
    parser.add_argument("--sources", type=Path, help="sources file (default: the shipped list)")
    parser.add_argument("--all", action="store_true", dest="all_sources",
                        help="poll every source now, whether due or not")
    parser.set_defaults(handler=run)


def run(args, settings) -> int:
    try:
        report = crawl_once(settings, args.sources, all_sources=args.all_sources)
    except SourcesError as exc:
        print(f"backchannel crawl: {exc}", file=sys.stderr)
        return 2
    polls = report.polls.values()
    print(
        f"polled {len(report.polls)} sources "
        f"({sum(1 for p in polls if p.unchanged)} unchanged), "
        f"fetched {report.pages_fetched} pages, stored {report.articles_new} new articles"
        f" ({report.articles_changed} updated, {report.pages_skipped} skipped)"
    )
    for poll in report.failed_sources:
        print(f"FAILED {poll.source.outlet}: {poll.error or 'no response'}", file=sys.stderr)
    return 1 if report.failed_sources else 0
