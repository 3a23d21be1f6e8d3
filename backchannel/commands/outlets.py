"""`backchannel outlets [list] [--discovered]`: the outlets in the archive with their
article counts and first contact-story article; `backchannel outlets follow DOMAIN`:
a discovered outlet's own feed, found on its home page, polled like a listed feed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from archive.db import connect
from archive.discovery import find_outlet, follow_feed, outlet_key, outlet_rows
from crawler.autodiscovery import NoFeed, discover_feed
from crawler.sources import load_sources


def register(subparsers) -> None:
    parser = subparsers.add_parser("outlets", help="outlets in the archive; follow one")
    parser.set_defaults(handler=run_list, discovered=False, format="table")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="outlets with article counts (the default)")
    for p in (parser, listing):
        p.add_argument("--discovered", action="store_true",
                       help="only the outlets a search discovered")
        p.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(handler=run_list)
    follow = actions.add_parser("follow", help="poll an outlet's own feed (autodiscovery)")
    follow.add_argument("domain", help="the outlet's domain (or address:port), or its name")
    follow.add_argument("--sources", type=Path,
                        help="sources file (for allow_private_addresses)")
    follow.set_defaults(handler=run_follow)


def run_list(args, settings) -> int:
    conn = connect(settings)
    try:
        rows = outlet_rows(conn, args.discovered)
    finally:
        conn.close()
    if args.format == "json":
        for row in rows:
            print(json.dumps(row, default=str, ensure_ascii=False))
        return 0
    for row in rows:
        origin = (f"discovered {row['discovered_at']:%Y-%m-%d %H:%M} by {row['found_by']}"
                  if row["discovered_at"] else "listed")
        followed = "; followed" if row["followed"] else ""
        print(f"{row['name']} ({', '.join(row['domains']) or 'no domains'}): "
              f"{row['articles']} articles, {row['contact_articles']} on contacts; "
              f"{origin}{followed}")
        if row["first_contact_url"]:
            print(f"    first contact story: {row['first_contact_url']}")
    print(f"{len(rows)} outlets")
    return 0


def run_follow(args, settings) -> int:
    conn = connect(settings)
    try:
        outlet = find_outlet(conn, args.domain.strip().lower())
        if outlet is None:
            print(f"backchannel outlets follow: no outlet {args.domain!r} in the archive "
                  "(see `backchannel outlets list`)", file=sys.stderr)
            return 1
        path = args.sources or settings.sources
        allow = settings.allow_private_addresses or bool(
            load_sources(path, settings.default_interval_minutes).allow_private_addresses)
        domain = outlet_key(conn, outlet) or args.domain.strip()
        try:
            feed = discover_feed(domain, settings.user_agent, settings.download_timeout, allow)
        except NoFeed as exc:
            print(f"backchannel outlets follow: no feed found for {outlet}: {exc}",
                  file=sys.stderr)
            return 1
        follow_feed(conn, outlet, feed, settings.default_interval_minutes)
    finally:
        conn.close()
    print(f"following {outlet}: {feed}, polled every "
          f"{settings.default_interval_minutes:g} min from the next pass")
    return 0
