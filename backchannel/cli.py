"""The `backchannel` command. Each subcommand lives in its own module under
`backchannel.commands` and registers itself; this file only wires them."""

from __future__ import annotations

import argparse
import importlib
import sys

import psycopg

from archive.db import DatabaseError, error_line
from archive.embedded import EmbeddedUnavailable
from core import __version__
from core.config import ConfigError, load_settings
from core.logs import setup_logging
from crawler.sources import SourcesError, load_sources, redact_url

# Order is the order shown by --help.
COMMAND_MODULES = [
    "backchannel.commands.init",
    "backchannel.commands.crawl",
    "backchannel.commands.run",
    "backchannel.commands.sources",
    "backchannel.commands.serve",
    "backchannel.commands.extract",
    "backchannel.commands.classify",
    "backchannel.commands.reprocess",
    "backchannel.commands.eval",
    "backchannel.commands.stories",
    "backchannel.commands.alerts",
    "backchannel.commands.search",
    "backchannel.commands.outlets",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backchannel",
        description="Watch the news for unconfirmed Kremlin–White House contacts.",
    )
    parser.add_argument("--version", action="version", version=f"backchannel {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command not written yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"backchannel: {one_line(str(exc))}", file=sys.stderr)
        return 2
    for warning in settings.warnings:
        print(f"backchannel: warning: {warning}", file=sys.stderr)
    setup_logging("DEBUG" if args.verbose else settings.log_level)
    try:
        if hasattr(args, "sources"):  # checked whole before the command does anything
            load_sources(args.sources or settings.sources, settings.default_interval_minutes)
        return int(args.handler(args, settings) or 0)
    except (ConfigError, DatabaseError, EmbeddedUnavailable, SourcesError) as exc:
        print(f"backchannel: {one_line(redact_url(str(exc)))}", file=sys.stderr)
        return 2
    except psycopg.Error as exc:  # the server went away, the disk is full…: no traceback
        print(f"backchannel: database error: {error_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a mistake of ours: one line, the traceback with -v
        if args.verbose:
            raise
        print(f"backchannel: unexpected error ({type(exc).__name__}: "
              f"{one_line(redact_url(str(exc)))[:300]}); run with -v for the details",
              file=sys.stderr)
        return 1


def one_line(text: str) -> str:
    """An error message as one line, whatever it quotes (a TOML error's line breaks)."""
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
