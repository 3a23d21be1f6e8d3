"""`backchannel stories`: the archive's stories, newest first, and one story's timeline."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime

from archive.curation import (
    CurationError,
    merge_stories,
    rename_story,
    set_story_status,
    split_story_by_hand,
)
from archive.db import connect
from archive.stories import list_stories, story_timeline
from core.text import quoted
from stories.matching import STORY_STATUSES

ACTIONS = ("list", "show", "merge", "split", "set-status", "rename")
USAGE = {
    "show": "stories show ID",
    "merge": "stories merge KEEP OTHER [--note TEXT]",
    "split": "stories split ID ARTICLE [ARTICLE …] [--note TEXT]",
    "set-status": "stories set-status ID unconfirmed|confirmed|denied|auto [--note TEXT]",
    "rename": "stories rename ID TITLE…",
}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "stories", help="stories (one per alleged contact): list, show ID, and corrections "
                        "(merge, split, set-status, rename)",
        description="; ".join(f"backchannel {usage}" for usage in USAGE.values()))
    parser.add_argument("action", nargs="?", choices=ACTIONS, default="list",
                        help="list (default), show one story, or correct one")
    parser.add_argument("words", nargs="*", help="story and article ids, a status, a title")
    parser.add_argument("--status", choices=STORY_STATUSES, help="only stories with this status")
    parser.add_argument("--since", type=iso_date, help="only stories first reported since D")
    parser.add_argument("--note", help="why (kept in the story's history)")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    parser.set_defaults(handler=run)


def iso_date(value: str) -> datetime:
    """ISO date or date-time; a bare date means midnight UTC."""
    try:
        if len(value) == 10:
            return datetime.fromisoformat(value + "T00:00:00+00:00")
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO date: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.now().astimezone().tzinfo)




def run(args, settings) -> int:
    if args.action in ("list", "show"):
        return _read(args, settings)
    try:
        request = _correction(args.action, args.words)
    except ValueError as exc:
        print(f"backchannel stories {args.action}: {exc}; usage: backchannel "
              f"{USAGE[args.action]}", file=sys.stderr)
        return 2
    conn = connect(settings)
    try:
        print(request(conn, args.note))
    except CurationError as exc:
        print(f"backchannel stories {args.action}: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    return 0


def _ids(words: list[str], what: str) -> list[int]:
    try:
        return [int(word) for word in words]
    except ValueError:
        raise ValueError(f"{what} must be numbers, not {' '.join(words)!r}") from None


def _correction(action: str, words: list[str]):
    """The correction asked for, as a function of (connection, note) that says what it
    did; ValueError when the words do not fit the action."""
    if action == "merge":
        if len(words) != 2:
            raise ValueError("two story ids are needed")
        keep, other = _ids(words, "story ids")

        def merge(conn, note):
            merge_stories(conn, keep, other, note)
            return f"merged story {other} into story {keep}"
        return merge
    if action == "split":
        if len(words) < 2:
            raise ValueError("a story id and at least one article id are needed")
        story_id, *articles = _ids(words, "ids")

        def split(conn, note):
            new_id = split_story_by_hand(conn, story_id, articles, note)
            return f"split {len(articles)} articles from story {story_id} into story {new_id}"
        return split
    if action == "set-status":
        if len(words) != 2:
            raise ValueError("a story id and a status are needed")
        story_id = _ids(words[:1], "the story id")[0]

        def set_status(conn, note):
            return f"story {story_id} is {set_story_status(conn, story_id, words[1], note)}"
        return set_status
    if len(words) < 2:
        raise ValueError("a story id and a title are needed")
    story_id = _ids(words[:1], "the story id")[0]

    def rename(conn, note):
        rename_story(conn, story_id, " ".join(words[1:]), note)
        return f"story {story_id} renamed"
    return rename


def _read(args, settings) -> int:
    if args.action == "show" and len(args.words) != 1:
        print("backchannel stories show: a story ID is required", file=sys.stderr)
        return 2
    if args.action == "list" and args.words:
        print(f"backchannel stories: unexpected {' '.join(args.words)!r}", file=sys.stderr)
        return 2
    conn = connect(settings)
    try:
        if args.action == "show":
            try:
                story_id = _ids(args.words, "the story id")[0]
            except ValueError as exc:
                print(f"backchannel stories show: {exc}", file=sys.stderr)
                return 2
            story = story_timeline(conn, story_id)
            if story is None:
                print(f"backchannel stories: no story {story_id}", file=sys.stderr)
                return 1
            print(_json(story) if args.format == "json" else _timeline_table(story))
            return 0
        stories = list_stories(conn, status=args.status, since=args.since)
    finally:
        conn.close()
    if args.format == "json":
        if stories:
            print(_json(stories))
        return 0
    print(_stories_table(stories))
    return 0


def _json(value) -> str:
    """JSON Lines, as every `--format json` prints: one object a line."""
    rows = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(row, ensure_ascii=False, default=_plain) for row in rows)


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _stories_table(stories: list[dict]) -> str:
    if not stories:
        return "no stories"
    lines = [f"{'ID':>6}  {'FIRST REPORTED':16}  {'STATUS':11}  {'N':>3}  TITLE / OUTLETS"]
    for s in stories:
        lines.append(f"{s['id']:>6}  {_when(s['first_reported_at']):16}  {s['status']:11}  "
                     f"{s['articles']:>3}  {(s['title'] or '(no title)')[:80]}")
        lines.append(f"{'':>44}{', '.join(s['outlets'])}")
    return "\n".join(lines)


def _timeline_table(story: dict) -> str:
    lines = [f"story {story['id']} ({story['status']}): {story['title'] or '(no title)'}",
             f"first reported {_when(story['first_reported_at'])} by {story['first_outlet']}"]
    if story.get("status_override"):
        lines.append("status set by hand (`stories set-status ID auto` computes it again)")
    if story.get("note"):
        lines.append(f"note: {story['note']}")
    lines.append("")
    for a in story["articles"]:
        marks = []
        if a["new_outlet"]:
            marks.append("new outlet")
        if a["is_copy_of"]:
            marks.append(f"copy of {a['is_copy_of']}")
        if a["wire"]:
            marks.append(f"wire: {a['wire']}")
        lines.append(f"{_when(a['reported_at']):16}  {a['outlet'][:28]:28}  "
                     f"#{a['article_id']:<7} {a['call_status'] or '-':11}  {'; '.join(marks)}")
        lines.append(f"{'':18}{a['url']}")
        if a["evidence"]:
            lines.append(f"{'':18}{quoted(a['evidence'][:160])}")
    if story["events"]:
        lines.append("")
    for event in story["events"]:
        lines.append(f"{_when(event['created_at']):16}  {event['text']}")
    return "\n".join(lines)
