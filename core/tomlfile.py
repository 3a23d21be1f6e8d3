"""Reading a TOML file a user wrote (the configuration, the sources file) so that every
way it can be wrong is one line naming the file, and finding the line a key is on:
tomllib gives values, not positions, and an error that says "line 12" is found at once."""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path


class TomlFileError(ValueError):
    """The file cannot be read as TOML; the message starts with its path."""


def read_toml(path: Path) -> tuple[dict, str]:
    """(data, text) of a TOML file; TomlFileError, one line, when it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TomlFileError(f"{path}: not found") from None
    except IsADirectoryError:
        raise TomlFileError(f"{path}: is a directory, not a TOML file") from None
    except UnicodeDecodeError:
        raise TomlFileError(f"{path}: not a text file (not UTF-8)") from None
    except OSError as exc:
        raise TomlFileError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise TomlFileError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise TomlFileError(f"{path}: not valid TOML: nested too deeply") from None


def _key_pattern(key: str) -> re.Pattern:
    name = re.escape(key)
    return re.compile(rf"""^\s*(?:{name}|"{name}"|'{name}')\s*[=.]""")


def _header_pattern(name: str) -> re.Pattern:
    quoted = re.escape(name)
    return re.compile(rf"""^\s*\[\[?\s*(?:{quoted}|"{quoted}"|'{quoted}')\s*[\].]""")


def table_lines(text: str, name: str) -> list[int]:
    """The 1-based lines of each `[[name]]` (or `[name]`) header, in order."""
    pattern = _header_pattern(name)
    return [n for n, line in enumerate(text.splitlines(), 1) if pattern.match(line)]


def line_of(text: str, key: str, table: str | None = None, index: int = 1) -> int | None:
    """The line where `key` is written: at the top level, or in the index-th (from 1)
    `[[table]]`. A top-level key may be a table header itself (`[digest_minutes]`)."""
    lines = text.splitlines()
    start, end = 0, len(lines)
    if table is not None:
        headers = table_lines(text, table)
        if len(headers) < index:
            return None
        start = headers[index - 1]
        if not key:
            return start
        end = next((n - 1 for n in range(start + 1, len(lines) + 1)
                    if lines[n - 1].lstrip().startswith("[")), len(lines))
    else:
        end = next((n - 1 for n in range(1, len(lines) + 1)
                    if lines[n - 1].lstrip().startswith("[")), len(lines))
        headers = table_lines(text, key)
        if headers:
            return headers[0]
    pattern = _key_pattern(key)
    for number in range(start + 1, end + 1):
        if pattern.match(lines[number - 1]):
            return number
    return None


def where(path: str, line: int | None) -> str:
    """`path:line`, or the path alone when the line is not known."""
    return f"{path}:{line}" if line else str(path)


def noun_of(value) -> str:
    """"table" for a table or an array of tables, else "key": what an error calls it."""
    tables = isinstance(value, dict) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value))
    return "table" if tables else "key"


def unknown_key(key: str, known, noun: str = "key") -> str:
    """"`allow_private_adresses`: unknown key; did you mean `allow_private_addresses`?\""""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    if close:
        hint = f"; did you mean `{close[0]}`?"
    elif len(known) <= 12:
        hint = f" (known: {', '.join(f'`{k}`' for k in sorted(known))})"
    else:
        hint = ""
    return f"`{key}`: unknown {noun}{hint}"
