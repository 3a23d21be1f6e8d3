"""`backchannel run`: the daemon (APScheduler), crawling on a schedule until stopped;
with `--role scheduler|worker`, the same work spread over many processes and machines
(scheduler/distributed.py)."""

from __future__ import annotations

import errno
import sys
from pathlib import Path

from crawler.sources import SourcesError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run", help="the daemon: poll sources on their schedules, alert, until stopped")
    parser.add_argument("--sources", type=Path, help="sources file (default: the shipped list)")
    parser.add_argument("--max-passes", type=int, metavar="N",
                        help="stop after N passes (for trials and benchmarks)")
    parser.add_argument("--role", choices=("all", "scheduler", "worker"), default="all",
                        help="all: one process does everything (default); scheduler: "
                             "queue the due sources; worker: run queued polls and deliver "
                             "alerts (any number, on any machine)")
    parser.set_defaults(handler=run)


def run(args, settings) -> int:
    from scheduler.daemon import Daemon, ReactorError

    role = getattr(args, "role", "all")
    try:
        if role == "all":
            return Daemon(settings, args.sources).run(max_passes=args.max_passes)
        if args.max_passes is not None:
            print("backchannel run: --max-passes works with --role all only", file=sys.stderr)
            return 2
        from scheduler.distributed import Scheduler, Worker

        cls = Scheduler if role == "scheduler" else Worker
        return cls(settings, args.sources).run()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            print(f"backchannel run: {exc}", file=sys.stderr)
            return 2
        print(f"backchannel run: cannot listen on {settings.health_host}:"
              f"{settings.health_port} for /healthz and /metrics: the address is in use "
              f"(health_host and health_port; the port from {settings.origin('health_port')})",
              file=sys.stderr)
        return 2
    except (SourcesError, ReactorError, ValueError) as exc:
        # OSError: the health port is taken; ValueError: a bad distributed-mode knob
        print(f"backchannel run: {exc}", file=sys.stderr)
        return 2
