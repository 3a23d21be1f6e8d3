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
        if (record.levelno < logging.WARNING and logging.getLogger().level > logging.DEBUG
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


def setup_logging(level: str = "INFO") -> None:
    handler = RedactingHandler(sys.stderr)
    if sys.stderr.isatty():
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_noisy_loggers()


NOISY = ("scrapy", "twisted", "filelock", "trafilatura", "htmldate", "charset_normalizer",
         "apscheduler", "mail.log")


def quiet_noisy_loggers() -> None:
    """Libraries chatty at INFO show warnings only. Scrapy resets its loggers whenever a
    CrawlerProcess is made, so this runs again after that."""
    level = max(logging.WARNING, logging.getLogger().level)
    for name in NOISY:
        logging.getLogger(name).setLevel(level)
