"""`backchannel crawl`: one pass over due sources, alerts delivered, then exit (cron)."""

from __future__ import annotations

import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from alerts.wiring import Wiring, wiring_from_settings
from archive.db import DatabaseError, connect
from archive.locks import CrawlerLock
from core.text import plural
from crawler.items import PassReport
from crawler.runners import crawl_once
from crawler.sources import SourcesError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "crawl", help="one pass: poll due sources, fetch, extract, store, alert; exit"
    )
    parser.add_argument("--sources", type=Path, help="sources file (default: the shipped list)")
    parser.add_argument("--all", action="store_true", dest="all_sources",
                        help="poll every source now, whether due or not")
    parser.set_defaults(handler=run)


def run(args, settings) -> int:
    wiring = wiring_from_settings(settings)
    url = wiring.database_url
    connect(url).close()  # create or migrate the archive before anyone uses it
    lock = CrawlerLock(url, "backchannel crawl")
    if not lock.try_acquire():
        print(f"backchannel crawl: another crawler holds the lock on this database: "
              f"{lock.holder()}; nothing to do")
        return 0
    try:
        return _crawl(args, settings, wiring)
    finally:
        lock.release()


def _crawl(args, settings, wiring: Wiring) -> int:
    # Alerts leave as soon as their article is stored, while the pass goes on.
    wiring.start()
    report = PassReport()
    lost: DatabaseError | None = None
    try:
        with progress(report):
            crawl_once(settings, wiring.database_url, args.sources,
                       all_sources=args.all_sources, outbox=wiring.outbox, report=report)
    except SourcesError as exc:
        wiring.stop()
        print(f"backchannel crawl: {exc}", file=sys.stderr)
        return 2
    except DatabaseError as exc:  # the database went away during the pass
        lost = exc
    wiring.drain(settings.alert_wait_seconds)
    polls = report.polls.values()
    print(
        f"polled {plural(len(report.polls), 'source')} "
        f"({sum(1 for p in polls if p.unchanged)} unchanged), "
        f"fetched {plural(report.pages_fetched, 'page')}, stored "
        f"{plural(report.articles_new, 'new article')}"
        f" ({report.articles_changed} updated, {report.pages_skipped} skipped), "
        f"{plural(len(report.alerts), 'new alert')}"
    )
    for poll in report.failed_sources:
        print(f"FAILED {poll.source.outlet}: {poll.error or 'no response'}", file=sys.stderr)
    from crawler.pipelines import NOT_STORED  # (the pipeline ran: imported already)

    not_stored = [error for error in report.page_errors if f": {NOT_STORED}: " in error]
    if not_stored:
        reasons = Counter(error.split(f": {NOT_STORED}: ", 1)[1] for error in not_stored)
        print(f"backchannel crawl: {len(not_stored)} pages could not be stored; the next "
              f"pass fetches them again. The database said: "
              + "; ".join(f"{reason} ({n}x)" if n > 1 else reason
                          for reason, n in reasons.most_common(3)), file=sys.stderr)
    if lost is not None:
        print(f"backchannel crawl: {lost}", file=sys.stderr)
    return 1 if report.failed_sources or not_stored or lost else 0


@contextmanager
def progress(report: PassReport):
    """On a terminal, a live line of what the pass has done so far (rich); else nothing."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console
    from rich.live import Live
    from rich.spinner import Spinner

    def line() -> Spinner:
        polled = sum(1 for poll in report.polls.values() if poll.status or poll.error)
        return Spinner("dots", text=(
            f"polled {polled}/{report.sources_due} sources · fetched {report.pages_fetched} "
            f"pages · stored {report.articles_new} new · {len(report.alerts)} alerts"))

    with Live(get_renderable=line, console=Console(stderr=True), refresh_per_second=4,
              transient=True):
        yield
