"""`backchannel classify [FILE|-]`: JSON Lines of articles in, one JSON line of labels
out per input line, in order, so the classifier can be run on anything by hand or in a
pipe. A bad line gives an error line in its place and the rest go on."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from classify import CueError, classify, load_cues

# A longer line is refused unread: a 100 MB line once took minutes and gigabytes.
MAX_LINE_CHARS = 10 * 1024 * 1024
READ_CHUNK = 1024 * 1024


class TooLong:
    """Stands for an input line longer than MAX_LINE_CHARS, which was skipped."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "classify",
        help="JSON Lines of articles → contact story, call status and evidence",
        description=(
            'Read JSON Lines {"id", "title", "text", "language"?} from FILE or standard '
            'input and print {"id", "contact_story", "call_status", "evidence", "confidence"} '
            "for each line, in order (confidence: 0-1, how likely the label is right). "
            'A line that cannot be read gives {"id", "line", "error"} and '
            "exit status 1; the other lines are still classified."
        ),
    )
    parser.add_argument("file", nargs="?", default="-", metavar="FILE|-",
                        help="JSON Lines file, or - for standard input (the default)")
    parser.add_argument("--cues", type=Path, metavar="TOML",
                        help="a cue file to use instead of the shipped one")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings) -> int:
    try:
        cues = load_cues(args.cues)
    except CueError as exc:
        print(f"backchannel classify: {exc}", file=sys.stderr)
        return 2
    try:
        stream = open_input(args.file)
    except OSError as exc:
        print(f"backchannel classify: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    status = 0
    with stream:
        for record in classify_lines(read_lines(stream), cues):
            status |= 1 if "error" in record else 0
            print(json.dumps(record, ensure_ascii=False), flush=False)
    sys.stdout.flush()
    return status


def open_input(name: str) -> TextIO:
    """Standard input for "-", else the named file (UTF-8)."""
    if name == "-":
        return open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False)
    return open(name, encoding="utf-8", errors="replace")


def read_lines(stream: TextIO, limit: int = MAX_LINE_CHARS) -> Iterator[str | TooLong]:
    """The stream's lines; a line longer than `limit` characters is read past in chunks
    (never held whole) and given as a TooLong."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) <= limit or line.endswith("\n") and len(line) == limit + 1:
            yield line
            continue
        while line and not line.endswith("\n"):
            line = stream.readline(READ_CHUNK)
        yield TooLong()


def classify_lines(lines: Iterable[str | TooLong], cues=None) -> Iterator[dict]:
    """One output record per input line; blank lines are skipped."""
    for number, line in enumerate(lines, start=1):
        if isinstance(line, TooLong):
            yield {"id": None, "line": number,
                   "error": f"line longer than {MAX_LINE_CHARS:,} characters; not read"}
            continue
        if not line.strip():
            continue
        yield classify_line(line, number, cues)


def classify_line(line: str, number: int, cues=None) -> dict:
    """Label one JSON line, or describe why it could not be read."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "line": number, "error": f"invalid JSON: {exc.msg}"}
    except ValueError as exc:  # an integer of more than 4,300 digits
        reason = str(exc).split(";")[0]  # not Python's advice on raising the limit
        return {"id": None, "line": number, "error": f"unreadable JSON: {reason}"}
    except RecursionError:
        return {"id": None, "line": number, "error": "unreadable JSON: nested too deeply"}
    if not isinstance(item, dict):
        return {"id": None, "line": number, "error": "a line must be a JSON object"}
    ident = item.get("id")
    problem = _field_problem(item)
    if problem:
        return {"id": ident, "line": number, "error": problem}
    language = item.get("language") or detect_language(item.get("title"), item["text"])
    decision = classify(item.get("title"), item["text"], language, cues=cues)
    return {
        "id": ident,
        "contact_story": decision.contact_story,
        "call_status": decision.call_status,
        "evidence": decision.evidence,
        "confidence": decision.confidence,
    }


def _field_problem(item: dict) -> str | None:
    if "text" not in item or item["text"] is None:
        return 'missing "text"'
    if not isinstance(item["text"], str):
        return '"text" must be a string'
    if item.get("title") is not None and not isinstance(item["title"], str):
        return '"title" must be a string or null'
    if item.get("language") is not None and not isinstance(item["language"], str):
        return '"language" must be a string or null'
    return None


def detect_language(title: str | None, text: str) -> str | None:
    """ISO 639-1 code of the article's language (py3langid), or None for empty text."""
    sample = f"{title or ''}\n{text}".strip()[:2000]
    if not sample:
        return None
    import py3langid  # loaded only when a line lacks its language

    code, _score = py3langid.classify(sample)
    return code
