"""`backchannel stories`: the archive's stories, newest first, and one story's timeline."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime

from archive.db import connect
from archive.stories import list_stories, story_timeline
from stories.matching import STORY_STATUSES


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "stories", help="stories (one per alleged contact) with their outlets; `show ID`"
    )
    parser.add_argument("action", nargs="?", choices=["list", "show"], default="list",
                        help="list (default) or show one story")
    parser.add_argument("story_id", nargs="?", type=int, help="the story to show")
    parser.add_argument("--status", choices=STORY_STATUSES, help="only stories with this status")
    parser.add_argument("--since", type=iso_date, help="only stories first reported since D")
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
    if args.action == "show" and args.story_id is None:
        print("backchannel stories show: a story ID is required", file=sys.stderr)
        return 2
    conn = connect(settings)
    try:
        if args.action == "show":
            story = story_timeline(conn, args.story_id)
            if story is None:
                print(f"backchannel stories: no story {args.story_id}", file=sys.stderr)
                return 1
            print(_json(story) if args.format == "json" else _timeline_table(story))
            return 0
        stories = list_stories(conn, status=args.status, since=args.since)
    finally:
        conn.close()
    print(_json(stories) if args.format == "json" else _stories_table(stories))
    return 0


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=_plain)


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
             f"first reported {_when(story['first_reported_at'])} by {story['first_outlet']}",
             ""]
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
            lines.append(f"{'':18}“{a['evidence'][:160]}”")
    if story["events"]:
        lines.append("")
    for event in story["events"]:
        lines.append(f"{_when(event['created_at']):16}  {event_line(story['id'], event)}")
    return "\n".join(lines)


def event_line(story_id: int, event: dict) -> str:
    """One merge, split, move or removal, told from this story's side."""
    kind, other, article = event["kind"], event["other_id"], event["article_id"]
    reason = f" ({event['reason']})" if event["reason"] else ""
    if kind == "merge":
        return (f"story {other} merged into this one{reason}" if event["story_id"] == story_id
                else f"merged into story {event['story_id']}{reason}")
    if kind == "split":
        return (f"split: story {other} made of some of its articles{reason}"
                if event["story_id"] == story_id
                else f"split from story {event['story_id']}{reason}")
    if kind == "move":
        return (f"article #{article} moved to story {other}{reason}"
                if event["story_id"] == story_id
                else f"article #{article} moved here from story {event['story_id']}{reason}")
    if kind == "remove":
        return f"article #{article} left the story{reason}"
    return f"{kind}{reason}"
