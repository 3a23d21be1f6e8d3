"""`backchannel crawl`: one pass over due sources, alerts delivered, then exit (cron).
At a terminal it shows a live line while it works and then says what the pass meant;
elsewhere its logs are JSON lines, as the daemon's are."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from alerts.wiring import Wiring, wiring_from_settings
from archive.db import DatabaseError, connect
from archive.locks import CrawlerLock
from archive.source_status import polling_state
from backchannel.crawl_summary import alert_outcome, nothing_due_line, unreachable_line
from backchannel.progress import Watch, on_terminal, progress, quiet_terminal
from core.logs import debugging, setup_logging
from core.text import plural
from crawler.items import PassReport
from crawler.runners import crawl_once
from crawler.sources import SourcesError, load_sources


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "crawl", help="one pass: poll due sources, fetch, extract, store, alert; exit"
    )
    parser.add_argument("--sources", type=Path, help="sources file (default: the shipped list)")
    parser.add_argument("--all", action="store_true", dest="all_sources",
                        help="poll every source now, whether due or not")
    parser.add_argument("--debug", action="store_true",
                        help="log everything, library messages and tracebacks included")
    parser.set_defaults(handler=run)


def run(args, settings) -> int:
    if args.debug:
        setup_logging("DEBUG")
    with quiet_terminal():
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
    watch = Watch()
    lost: DatabaseError | None = None
    try:
        with progress(report, watch):
            crawl_once(settings, wiring.database_url, args.sources,
                       all_sources=args.all_sources, outbox=wiring.outbox, report=report,
                       on_request=watch.request)
    except SourcesError as exc:
        wiring.stop()
        print(f"backchannel crawl: {exc}", file=sys.stderr)
        return 2
    except DatabaseError as exc:  # the database went away during the pass
        lost = exc
    wiring.drain(settings.alert_wait_seconds)
    if lost is None and report.sources_due == 0:
        return _nothing_due(args, settings, wiring)
    alerts = _alert_outcome(wiring, report)
    polls = report.polls.values()
    print(
        f"polled {plural(len(report.polls), 'source')} "
        f"({sum(1 for p in polls if p.unchanged)} unchanged), "
        f"fetched {plural(report.pages_fetched, 'page')}, stored "
        f"{plural(report.articles_new, 'new article')}"
        f" ({report.articles_changed} updated, {report.pages_skipped} skipped), "
        f"{alerts.summary() if alerts else plural(len(report.alerts), 'new alert')}"
    )
    unreachable = unreachable_line(polls)
    if unreachable is None or not on_terminal() or debugging():  # else said once
        for poll in report.failed_sources:
            print(f"FAILED {poll.source.outlet}: {poll.error or 'no response'}",
                  file=sys.stderr)
    if unreachable:
        print(f"backchannel crawl: {unreachable}", file=sys.stderr)
    pages_failed = [error for error in report.page_errors if ": not stored: " not in error]
    if pages_failed and on_terminal():
        print(f"backchannel crawl: {plural(len(pages_failed), 'page')} could not be fetched "
              f"(the next pass tries again): {_reasons(pages_failed, ': ')}", file=sys.stderr)
    from crawler.pipelines import NOT_STORED  # (the pipeline ran: imported already)

    not_stored = [error for error in report.page_errors if f": {NOT_STORED}: " in error]
    if not_stored:
        print(f"backchannel crawl: {len(not_stored)} pages could not be stored; the next "
              f"pass fetches them again. The database said: "
              + _reasons(not_stored, f": {NOT_STORED}: "), file=sys.stderr)
    undelivered = alerts.problem() if alerts else None
    if undelivered:
        print(f"backchannel crawl: {undelivered}", file=sys.stderr)
    if lost is not None:
        print(f"backchannel crawl: {lost}", file=sys.stderr)
    return 1 if report.failed_sources or not_stored or lost or undelivered else 0


def _reasons(errors: list[str], separator: str) -> str:
    """The three commonest reasons after `separator` (what precedes it is the page's
    URL), each once with its count: "HTTP 404 (3x); ..."."""
    reasons = Counter(error.split(separator, 1)[-1] for error in errors)
    return "; ".join(f"{reason} ({n}x)" if n > 1 else reason
                     for reason, n in reasons.most_common(3))


def _alert_outcome(wiring: Wiring, report: PassReport):
    """Where the pass's alerts got to (None when the database cannot say)."""
    try:
        conn = connect(wiring.database_url, migrate_now=False)
    except DatabaseError:
        return None
    try:
        return alert_outcome(conn, report.alerts, list(wiring.channels),
                             set(wiring.outbox.digest_minutes))
    except psycopg.Error:  # gone again: the summary says what it can without it
        return None
    finally:
        conn.close()


def _nothing_due(args, settings, wiring: Wiring) -> int:
    """No source was due: say why, and when the next poll is. Exit 1 when that is
    because every source is failing (backed off), 0 when all were polled recently."""
    sources = load_sources(args.sources or settings.sources, settings.default_interval_minutes)
    conn = connect(wiring.database_url, migrate_now=False)
    try:
        rows = polling_state(conn, [source.url for source in sources.sources])
    finally:
        conn.close()
    line, all_failing = nothing_due_line(rows, datetime.now(UTC))
    print(line)
    return 1 if all_failing else 0
