"""`backchannel search`, `show` and `export`: the archive on the command line."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime

from archive.db import connect, database_url
from archive.search import (
    MAX_LIMIT,
    STATUSES,
    SearchError,
    export,
    get_article,
    highlighted,
    make_filters,
    plain,
    search,
    unknown_outlets,
)
from core.text import quoted

SEARCH_COLUMNS = ("id", "reported_at", "outlet", "call_status", "story_id", "rank", "title",
                  "url", "language", "snippet")


def add_filters(parser) -> None:
    parser.add_argument("--outlet", action="append", dest="outlets", metavar="NAME",
                        help="only this outlet (repeatable; any case)")
    parser.add_argument("--status", choices=STATUSES, help="the article's call status")
    parser.add_argument("--story", help="only articles of this story")
    parser.add_argument("--since", help="reported on or after this date (YYYY-MM-DD) or time")
    parser.add_argument("--until", help="reported on or before this date, or before this time")
    parser.add_argument("--language", help="language code, e.g. en, ru")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "search", help="full-text search: words, \"phrases\", OR, -exclusions; filters")
    parser.add_argument("query", nargs="*", default=[],
                        help="web-search syntax, as many words as you like; empty: "
                             "everything the filters let through. A query that starts "
                             "with -word goes after --: search -- -Peskov Trump")
    add_filters(parser)
    parser.add_argument("--format", choices=["table", "json", "csv"],
                        help="default: table on a terminal, JSON Lines otherwise")
    parser.add_argument("--limit", type=int, default=20, help=f"results a page (≤ {MAX_LIMIT})")
    parser.add_argument("--page", type=int, default=1, help="page number, from 1")
    parser.set_defaults(handler=run_search)

    show = subparsers.add_parser("show", help="one article: metadata, status, story, copies")
    show.add_argument("ref", metavar="ID|URL")
    show.add_argument("--format", choices=["text", "json"], default="text")
    show.set_defaults(handler=run_show)

    dump = subparsers.add_parser("export", help="stream the matching archive as JSONL or CSV")
    dump.add_argument("query", nargs="*", default=[], help="optional search query (words)")
    add_filters(dump)
    dump.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    dump.add_argument("--no-text", action="store_true", help="leave out the article texts")
    dump.set_defaults(handler=run_export)


def _filters(args):
    query = " ".join(args.query) if isinstance(args.query, list) else args.query
    return make_filters(query, args.outlets, args.status, args.story, args.since,
                        args.until, args.language)


def _check_outlets(conn, outlets: list[str] | None) -> None:
    """An outlet filter that names no stored outlet is a mistake, not an empty result."""
    for name, close in unknown_outlets(conn, outlets or []).items():
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise SearchError(f"--outlet {name!r}: no such outlet in the archive{hint}")


def _fail(command: str, exc: Exception) -> int:
    print(f"backchannel {command}: {exc}", file=sys.stderr)
    return 2


def run_search(args, settings) -> int:
    try:
        filters = _filters(args)
        conn = connect(settings)
        try:
            _check_outlets(conn, args.outlets)
            page = search(conn, filters, limit=args.limit, page=args.page,
                          count=args.page == 1)
        finally:
            conn.close()
    except SearchError as exc:
        return _fail("search", exc)
    form = args.format or ("table" if sys.stdout.isatty() else "json")
    rows = [{**row, "snippet": plain(row["snippet"]), "_marked": row["snippet"]}
            for row in page.results]
    if form == "json":
        for row in rows:
            print(json.dumps({k: row[k] for k in SEARCH_COLUMNS}, default=_json,
                             ensure_ascii=False))
    elif form == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(SEARCH_COLUMNS)
        for row in rows:
            writer.writerow([_cell(row[k]) for k in SEARCH_COLUMNS])
    else:
        _table(rows, page, args)
    return 0


def _table(rows: list[dict], page, args) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    for row in rows:
        when = row["reported_at"].strftime("%Y-%m-%d %H:%M") if row["reported_at"] else "?"
        status = row["call_status"] or "none"
        story = f" · story {row['story_id']}" if row["story_id"] else ""
        console.print(f"[bold]#{row['id']}[/] {when} · {escape(row['outlet'])} · {status}"
                      f"{story}")
        console.print(f"  [bold]{escape(row['title'] or '(no title)')}[/]")
        console.print(f"  {escape(row['url'])}")
        snippet = highlighted(escape(row["_marked"] or ""), "[reverse]", "[/reverse]")
        if snippet:
            console.print(f"  {' '.join(snippet.split())}")
    shown = f"{len(rows)} shown (page {page.page})"
    if page.total is not None:
        total = f"{page.total}+" if page.total_capped else str(page.total)
        shown = f"{total} matches, {shown}"
    more = f"; next: --page {page.page + 1}" if len(rows) == page.limit else ""
    console.print(f"[dim]{shown}{more}[/]" if rows else "no matches")


def run_show(args, settings) -> int:
    conn = connect(settings)
    try:
        article = get_article(conn, args.ref)
    finally:
        conn.close()
    if article is None:
        print(f"backchannel show: no article {args.ref}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(article, default=_json, ensure_ascii=False, indent=2))
        return 0
    lines = [
        f"#{article['id']} {article['title'] or '(no title)'}",
        f"outlet:     {article['outlet']}",
        f"url:        {article['url']}",
        f"published:  {_cell(article['published_at']) or 'unknown'} "
        f"(fetched {_cell(article['fetched_at'])})",
        f"language:   {article['language'] or 'unknown'}",
        f"status:     {_status(article)}",
    ]
    if article["evidence"]:
        lines.append(f"evidence:   {quoted(article['evidence'])}")
    if article.get("confidence") is not None:
        lines.append(f"confidence: {article['confidence']:.2f} (that the status is right)")
    if article["story_id"]:
        lines.append(f"story:      {article['story_id']} ({article['story_status']}): "
                     f"{article['story_title'] or ''}")
    if article["copy_of"]:
        original = article["copy_of"]
        lines.append(f"copy of:    #{original['id']} {original['outlet']} {original['url']}")
    if article["wire"]:
        lines.append(f"wire:       {article['wire']}")
    for copy in article["copies"]:
        lines.append(f"copied by:  #{copy['id']} {copy['outlet']} {copy['url']}")
    lines += ["", article["text"]]
    print("\n".join(lines))
    return 0


def _status(article: dict) -> str:
    if not article["contact_story"]:
        return "not a contact story"
    return f"contact story, call {article['call_status']}"


def run_export(args, settings) -> int:
    try:
        filters = _filters(args)
    except SearchError as exc:
        return _fail("export", exc)
    url = database_url(settings)
    connect(url).close()  # migrate
    columns = None
    count = 0
    with connect(url, migrate_now=False, autocommit=False) as conn:  # named cursor: a transaction
        writer = csv.writer(sys.stdout) if args.format == "csv" else None
        for row in export(conn, filters):
            if args.no_text:
                row.pop("text", None)
            if writer is not None:
                if columns is None:
                    columns = list(row)
                    writer.writerow(columns)
                writer.writerow([_cell(row[c]) for c in columns])
            else:
                sys.stdout.write(json.dumps(row, default=_json, ensure_ascii=False) + "\n")
            count += 1
    print(f"exported {count} articles", file=sys.stderr)
    return 0


def _json(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)
