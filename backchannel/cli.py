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

# Each command and the module that registers it; modules in the order --help shows.
COMMANDS = {
    "init": "backchannel.commands.init",
    "crawl": "backchannel.commands.crawl",
    "run": "backchannel.commands.run",
    "sources": "backchannel.commands.sources",
    "serve": "backchannel.commands.serve",
    "extract": "backchannel.commands.extract",
    "classify": "backchannel.commands.classify",
    "reprocess": "backchannel.commands.reprocess",
    "reclassify": "backchannel.commands.reprocess",
    "eval": "backchannel.commands.eval",
    "stories": "backchannel.commands.stories",
    "alerts": "backchannel.commands.alerts",
    "search": "backchannel.commands.search",
    "show": "backchannel.commands.search",
    "export": "backchannel.commands.search",
    "outlets": "backchannel.commands.outlets",
}
COMMAND_MODULES = list(dict.fromkeys(COMMANDS.values()))


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or, given arguments that name one, of that command
    alone: the others' modules import the extractor, the classifier, the web app…,
    which a crawl's process does not need (a few tenths of a second at every start)."""
    parser = argparse.ArgumentParser(
        prog="backchannel",
        description="Watch the news for unconfirmed Kremlin–White House contacts.",
    )
    parser.add_argument("--version", action="version", version=f"backchannel {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _modules_for(argv):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command not written yet
                continue
            raise
        module.register(subparsers)
    return parser


def _modules_for(argv: list[str] | None) -> list[str]:
    """The module of the command the arguments name (the first word that is not an
    option: the global options take no value); all of them otherwise (--help, a typo)."""
    words = [arg for arg in argv or [] if not arg.startswith("-")]
    if words and words[0] in COMMANDS:
        return [COMMANDS[words[0]]]
    return COMMAND_MODULES


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
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
