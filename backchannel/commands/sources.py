"""`backchannel sources list|status|check`: the sources file as read, each source's
polling state in the archive (interval, last success and error, failures, next poll),
and a live probe of every source (reachable, entries, robots.txt; no archive writes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from archive.db import connect
from archive.source_status import polling_state
from crawler.sources import load_sources, redact_url


def register(subparsers) -> None:
    parser = subparsers.add_parser("sources", help="the sources and their polling state")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_text, handler in (
            ("list", "the sources file: outlets, kinds, URLs, intervals", run_list),
            ("status", "each source's interval, last success and error, next poll",
             run_status),
            ("check", "probe every source once: reachable, entries, robots.txt (no writes)",
             run_check)):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--sources", type=Path,
                            help="sources file (default: the configured or shipped one)")
        action.add_argument("--format", choices=["table", "json"], default="table")
        action.set_defaults(handler=handler)


def run_list(args, settings) -> int:
    sources = load_sources(args.sources or settings.sources, settings.default_interval_minutes)
    rows = [{"outlet": s.outlet, "kind": s.kind, "url": s.shown_url,
             "interval_minutes": s.interval_minutes} for s in sources.sources]
    if args.format == "json":
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    for row in rows:
        print(f"{row['outlet']:<28} {row['kind']:<8} every {_minutes(row['interval_minutes'])}"
              f"  {row['url']}")
    print(f"{len(rows)} sources, {len(sources.outlets)} outlets ({sources.path})")
    return 0


def run_status(args, settings) -> int:
    sources = load_sources(args.sources or settings.sources, settings.default_interval_minutes)
    urls = [s.url for s in sources.sources]
    conn = connect(settings)
    try:
        rows = polling_state(conn, urls)
    finally:
        conn.close()
    known = {row["url"] for row in rows}
    engines = {s.source_url: s.engine for s in sources.searches}
    engines = {redact_url(url): engine for url, engine in engines.items()}
    for row in rows:  # credentials in a URL are never printed
        for key in ("url", "last_error"):
            if row.get(key):
                row[key] = redact_url(row[key])
    never = [s for s in sources.sources if s.url not in known]
    if args.format == "json":
        for row in rows:
            print(json.dumps(row, default=str, ensure_ascii=False))
        for s in never:
            print(json.dumps({"outlet": s.outlet, "kind": s.kind, "url": s.shown_url,
                              "interval_minutes": s.interval_minutes, "last_polled_at": None}))
        return 0
    now = datetime.now(UTC)
    for row in rows:
        interval = _minutes(row["interval_minutes"])
        effective = row["effective_interval_seconds"]
        if effective and row["last_hint"] == "configured":
            interval = f"{interval} (as configured)"
        elif effective:
            interval = (f"{_minutes(effective / 60)} "
                        f"({row['last_hint']}; configured {interval})")
        state = "ok" if row["consecutive_failures"] == 0 else (
            f"FAILING ×{row['consecutive_failures']}")
        if row["last_polled_at"] is None:
            state = "never polled"
        print(f"{row['outlet']} — {row['url']}")
        print(f"    {state}; every {interval}; last success {_ago(row['last_success_at'], now)};"
              f" next poll {_ago(row['next_poll_at'], now)}")
        if row["kind"] == "search":
            engine = ("results feed" if engines.get(row["url"]) == "feed" else
                      f"GDELT, one request at a time {settings.gdelt_gap_seconds:g} s apart "
                      "for all GDELT searches of a process, 429 Retry-After honoured")
            print(f"    search: {engine}; seen up to {_ago(row['search_window_end'], now)}")
        if row["pushed_by"]:  # WebSub: polled only at its widest interval meanwhile
            lease = row["push_lease_until"]
            print(f"    pushed by {row['pushed_by']}; lease "
                  f"{'ends ' + _ago(lease, now) if lease else 'without end'}")
        if row["last_error"]:
            print(f"    last error: {row['last_error']}")
    for s in never:
        print(f"{s.outlet} — {s.shown_url}\n    never polled")
    return 0


def run_check(args, settings) -> int:
    """Exit 0 when every source answered with a usable feed, sitemap or listing page."""
    from crawler.probe import check_sources

    outcomes = check_sources(settings, args.sources)
    rows = [check_row(poll) for poll in outcomes]
    if args.format == "json":
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    else:
        for row in rows:
            print(f"{'ok' if row['reachable'] else 'FAILED':<7} {row['kind']:<8} "
                  f"{row['outlet']} — {row['url']}")
            found = {"feed": "feed entries", "sitemap": "sitemap URLs",
                     "section": "article links"}.get(row["kind"], "entries")
            detail = f"{row['entries']} {found}"
            if row["kind"] == "sitemap":
                detail += (f" ({row['recent']} in the window, {row['older']} older, "
                           f"{row['undated']} undated)")
                if row["documents"]:
                    detail += f" from {row['documents']} linked sitemaps"
            if row["kind"] == "section":
                detail += f"; next page {row['next_page'] or 'none'}"
            status = f"HTTP {row['status']}" if row["status"] else "no response"
            print(f"        {status}; {detail}; robots.txt {row['robots'] or 'unknown'}")
            if row["error"]:
                print(f"        error: {row['error']}")
            for problem in row["problems"][:5]:
                print(f"        note: {problem}")
        failed = sum(1 for row in rows if not row["reachable"])
        print(f"{len(rows)} sources checked, {len(rows) - failed} reachable, {failed} failed")
    return 0 if all(row["reachable"] for row in rows) else 1


def check_row(poll) -> dict:
    return {
        "outlet": poll.source.outlet, "kind": poll.source.kind,
        "url": redact_url(poll.source.url), "reachable": poll.ok, "status": poll.status,
        "entries": poll.entries, "recent": poll.new_urls, "older": poll.entries_old,
        "undated": poll.entries_undated, "documents": poll.documents_read,
        "next_page": poll.next_page and redact_url(poll.next_page), "robots": poll.robots,
        "error": poll.error and redact_url(poll.error),
        "problems": [redact_url(problem) for problem in poll.problems],
    }


def _minutes(value: float) -> str:
    seconds = value * 60
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{value:.0f} min"
    return f"{value / 60:.1f} h"


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = (moment - now).total_seconds()
    span = _minutes(abs(seconds) / 60)
    return f"in {span}" if seconds > 0 else f"{span} ago"
