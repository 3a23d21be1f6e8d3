"""`backchannel extract FILE…|URL [--url U]`: pages → one JSON line each, in the order
given, with the same extraction the crawl uses, so a page can be checked by hand."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from crawler.direct_fetch import FetchError, fetch_page
from crawler.netguard import PrivateAddressRefused
from crawler.sources import SourcesError, load_sources
from extract.article import ExtractionLimit, extract
from extract.outlets import OutletDirectory

FETCH_TIMEOUT = 30.0  # seconds, per read
FETCH_DEADLINE = 60.0  # seconds, for the whole page
FETCH_MAX_BYTES = 10 * 1024 * 1024

log = logging.getLogger("backchannel.extract")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "extract",
        help="page → JSON: title, text, published, authors, outlet, url, language",
        description=(
            "Extract the article of saved HTML files, or of one http(s) URL, and print one "
            "JSON line per input, in order. A file that cannot be read gives "
            '{"file": ..., "error": ...} in its place and exit status 1.'
        ),
    )
    parser.add_argument("inputs", nargs="+", metavar="FILE|URL", help="HTML file(s) or a URL")
    parser.add_argument("--url", metavar="U", help="the page's own URL, for a single file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings) -> int:
    if args.url and len(args.inputs) != 1:
        print("backchannel extract: --url applies to a single file", file=sys.stderr)
        return 2
    directory = outlet_directory(settings)
    status = 0
    for item in args.inputs:
        try:
            if is_url(item):
                page, url, content_type = fetch(item, settings)
            else:
                page, url, content_type = Path(item).read_bytes(), args.url, None
            record = {"file": item, **describe(page, url, content_type, directory)}
        except (OSError, FetchError, PrivateAddressRefused, ExtractionLimit) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            print(f"backchannel extract: {item}: {reason}", file=sys.stderr)
            record, status = {"file": item, "error": reason}, 1
        except Exception as exc:  # one bad page must not stop the others
            log.exception("extraction failed for %s", item)
            record, status = {"file": item, "error": f"extraction failed: {exc}"}, 1
        emit(record)
    return status


def describe(
    page: bytes, url: str | None, content_type: str | None, directory: OutletDirectory
) -> dict:
    """The JSON record of one page. The outlet is named from the URL the page was found
    at (a syndicated copy's canonical URL points at the original outlet), else from the
    canonical URL the page states, else null."""
    found = extract(page, url=url, content_type=content_type)
    known = url or found.url
    return {
        "title": found.title,
        "text": found.text,
        "published": found.published,
        "authors": found.authors,
        "outlet": directory.outlet_for(known) if known and is_url(known) else None,
        "url": found.url or url,
        "language": found.language,
        "site_name": found.site_name,
    }


def outlet_directory(settings) -> OutletDirectory:
    """The sources file's outlet names (as the crawl uses them), else domains alone."""
    try:
        return load_sources(settings.sources).directory()
    except SourcesError as exc:
        log.debug("outlet names from domains only: %s", exc)
        return OutletDirectory()


def is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def fetch(url: str, settings) -> tuple[bytes, str, str | None]:
    """GET a page: the name resolved once and the connection pinned to the checked
    address, private addresses refused (also on redirect), at most 10 MB, 30 s per read
    and FETCH_DEADLINE for the whole. Returns body, final URL, Content-Type."""
    return fetch_page(url, allow_private=settings.allow_private_addresses,
                      user_agent=settings.user_agent, accept="text/html,*/*;q=0.8",
                      read_timeout=FETCH_TIMEOUT, deadline=FETCH_DEADLINE,
                      max_bytes=FETCH_MAX_BYTES)


def emit(record: dict) -> None:
    """One JSON line; non-ASCII kept when stdout can carry it."""
    encoding = (sys.stdout.encoding or "").lower().replace("-", "").replace("_", "")
    line = json.dumps(record, ensure_ascii=encoding not in ("utf8", "utf8sig"))
    print(line, flush=True)
