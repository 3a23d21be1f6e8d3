"""Logging set-up: readable lines on a terminal, JSON lines otherwise (for journald, k8s)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

CONTEXT_FIELDS = ("source", "url", "outlet", "reason", "channel", "alert")
REDACTED = "***"
_secrets: set[str] = set()


def add_secret(value: str | None) -> None:
    """Never write this string to the log, whoever logs it (our code or a library's)."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


class RedactingHandler(logging.StreamHandler):
    """The last line of defence: secrets are replaced after formatting. Chatty libraries
    below WARNING are dropped here too, unless we log at DEBUG: Scrapy resets its own
    loggers' levels each time a crawler process starts."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (record.levelno < logging.WARNING and not debugging()
                and record.name.split(".", 1)[0] in NOISY):
            return False
        return super().filter(record)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class LineFormatter(logging.Formatter):
    """A line for a person at a terminal: a logged exception is one `Type: message`
    appended to the line, its traceback shown only when we log at DEBUG."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if (record.exc_info or record.exc_text) and not debugging():
            exc = record.exc_info[1] if record.exc_info else None
            record = logging.makeLogRecord(record.__dict__)
            record.exc_info = record.exc_text = record.stack_info = None
            text = super().format(record)
            reason = f"{type(exc).__name__}: {exc}".strip() if exc is not None else ""
            return f"{text} ({reason})" if reason and str(exc) not in text else text
        return super().format(record)


def debugging() -> bool:
    """Whether we log at DEBUG (`--debug`, `-v` or `log_level = "DEBUG"`)."""
    return logging.getLogger().level <= logging.DEBUG


def console_handler() -> logging.Handler | None:
    """The handler `setup_logging` installed, for a display that must draw around it."""
    return next((h for h in logging.getLogger().handlers
                 if isinstance(h, RedactingHandler)), None)


def setup_logging(level: str = "INFO") -> None:
    handler = RedactingHandler(sys.stderr)
    if sys.stderr.isatty():
        handler.setFormatter(LineFormatter())
    else:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_noisy_loggers()


NOISY = ("scrapy", "twisted", "filelock", "trafilatura", "htmldate", "charset_normalizer",
         "apscheduler", "mail.log", "pgserver", "uvicorn")


def quiet_noisy_loggers() -> None:
    """Libraries chatty at INFO show warnings only. Scrapy resets its loggers whenever a
    CrawlerProcess is made, so this runs again after that."""
    level = max(logging.WARNING, logging.getLogger().level)
    for name in NOISY:
        logging.getLogger(name).setLevel(level)
