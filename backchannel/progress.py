"""What a person at a terminal sees while a crawl pass runs: one live line (sources
polled, pages fetched, articles stored, alerts, the host being fetched) redrawn in
place, and above it only the log records that the summary will not say anyway."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from core.logs import console_handler, debugging
from crawler.items import PassReport

# Scrapy's own lines for a download that failed (our errbacks record the same failure
# on its source or page, and the summary names it), and for a component our settings
# switched off (allowed private addresses: a local replay, on purpose).
REPORTED_ELSEWHERE = ("scrapy.downloadermiddlewares.retry",
                      "scrapy.downloadermiddlewares.robotstxt", "scrapy.core.scraper",
                      "scrapy.middleware")

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Watch:
    """The host most recently sent a request, for the live line."""

    def __init__(self) -> None:
        self.host = ""

    def request(self, url: str) -> None:
        self.host = urlsplit(url).hostname or ""


def on_terminal() -> bool:
    return sys.stderr.isatty()


class TerminalFilter(logging.Filter):
    """At a terminal, unless we log at DEBUG: warnings and errors only, and not those
    that repeat a source's or page's failure (the summary lists the sources that
    failed and counts the pages)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if debugging():
            return True
        if record.levelno < logging.WARNING:
            return False
        if record.name.startswith(REPORTED_ELSEWHERE):
            return False
        return not (record.name.startswith("crawler.spiders") and hasattr(record, "source"))


@contextmanager
def quiet_terminal() -> Iterator[None]:
    """For the whole command at a terminal: the pass's chatter stays out of sight."""
    handler = console_handler()
    if not on_terminal() or handler is None:
        yield
        return
    terminal_filter = TerminalFilter()
    handler.addFilter(terminal_filter)
    try:
        yield
    finally:
        handler.removeFilter(terminal_filter)


def live_line(report: PassReport, watch: Watch) -> str:
    polled = sum(1 for poll in report.polls.values() if poll.status or poll.error)
    host = f" · {watch.host}" if watch.host else ""
    return (f"polled {polled}/{report.sources_due} sources · fetched {report.pages_fetched} "
            f"pages · stored {report.articles_new} new · {len(report.alerts)} alerts{host}")


@contextmanager
def progress(report: PassReport, watch: Watch) -> Iterator[None]:
    """On a terminal, the live line, drawn on stderr and gone when the pass ends; log
    lines are printed above it. Elsewhere nothing."""
    if not on_terminal():
        yield
        return
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    def draw() -> Text:  # one line, cut to the terminal's width: never wraps
        frame = SPINNER[int(time.monotonic() * 8) % len(SPINNER)]
        return Text(f"{frame} {live_line(report, watch)}", no_wrap=True, overflow="ellipsis")

    handler = console_handler()
    console = Console(stderr=True)
    with Live(get_renderable=draw, console=console, refresh_per_second=4, transient=True,
              redirect_stderr=True):
        # Live has replaced sys.stderr with a proxy that prints above the live line
        previous = handler.setStream(sys.stderr) if isinstance(
            handler, logging.StreamHandler) else None
        try:
            yield
        finally:
            if previous is not None:
                handler.setStream(previous)
