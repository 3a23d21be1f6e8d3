"""Imported once, by the server the extraction processes are forked from
(pipeline.isolated): the extractor and the classifier are imported, the cues compiled
and the language model loaded here, by reading one small page, so that every child
starts with all of it instead of paying a second of CPU for it at each start."""

from __future__ import annotations

import gc

from pipeline.page import FetchedPage
from pipeline.process import process

_PARAGRAPHS = (
    "The harbour authority said on Tuesday that the island ferry would sail again once "
    "the storm had passed and the swell had dropped below two metres.",
    "Passengers holding tickets for the cancelled crossings may travel on any boat this "
    "week, and the first sailing will carry delivery vans and hospital staff.",
    "Timetables should be back to normal by the weekend, the operator said, although "
    "the night crossing stays suspended until the damaged pier has been repaired.",
)
WARM_UP_PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    "<title>Ferry to sail again after the storm</title>"
    '<meta property="article:published_time" content="2025-04-01T09:00:00+00:00">'
    "</head><body><main><article><h1>Ferry to sail again after the storm</h1>"
    + "".join(f"<p>{p}</p>" for p in _PARAGRAPHS)
    + "</article></main></body></html>").encode()


def warm_up() -> None:
    """Read one page through `process`, so that what it loads at its first use (the
    language model, trafilatura's and the classifier's caches) is loaded before the
    children are forked. Only a head start: a failure here is left to the children."""
    page = FetchedPage(url="http://warm-up.invalid/ferry.html",
                       final_url="http://warm-up.invalid/ferry.html", status=200,
                       content_type="text/html; charset=utf-8", body=WARM_UP_PAGE)
    try:
        process(page, lambda url: "warm-up")
    except Exception:  # noqa: BLE001 - each child reads its pages, and reports, on its own
        pass


warm_up()
# The children share these objects with the server: their garbage collections need not
# walk (and so copy) the pages holding them.
gc.freeze()
