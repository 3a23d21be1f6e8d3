"""`backchannel run`: the daemon (APScheduler), crawling on a schedule until stopped."""

from __future__ import annotations

import sys
from pathlib import Path

from crawler.sources import SourcesError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run", help="the daemon: poll sources on their schedules, alert, until stopped")
    parser.add_argument("--sources", type=Path, help="sources file (default: the shipped list)")
    parser.add_argument("--max-passes", type=int, metavar="N",
                        help="stop after N passes (for trials and benchmarks)")
    parser.set_defaults(handler=run)


def run(args, settings) -> int:
    from scheduler.daemon import Daemon, ReactorError

    try:
        return Daemon(settings, args.sources).run(max_passes=args.max_passes)
    except (SourcesError, ReactorError, OSError) as exc:  # OSError: the health port is taken
        print(f"backchannel run: {exc}", file=sys.stderr)
        return 2
