"""`backchannel reprocess`: re-run extraction, classification and story grouping over
the stored pages, after any of them improved. Nothing is fetched. `reclassify` is
`reprocess --stage classify`, kept under its old name."""

from __future__ import annotations

import sys
from contextlib import contextmanager

from alerts.wiring import wiring_from_settings
from archive.db import connect
from archive.search import SearchError, parse_when
from core.text import plural
from pipeline.reprocess import STAGES, Summary, reprocess, selection_for


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "reprocess", help="re-run extract/classify/stories over the stored pages")
    _arguments(parser)
    parser.add_argument("--stage", choices=STAGES, default="extract",
                        help="the first stage to re-run; the later ones follow "
                             "(default: extract, i.e. all)")
    parser.set_defaults(handler=run)
    alias = subparsers.add_parser(
        "reclassify", help="re-run the classifier over the archive (reprocess --stage "
                           "classify)")
    _arguments(alias)
    alias.set_defaults(handler=run, stage="classify")


def _arguments(parser) -> None:
    parser.add_argument("--all", action="store_true",
                        help="every selected article, not only those an older extractor "
                             "or classifier made")
    parser.add_argument("--since", help="articles reported on or after this date (YYYY-MM-DD)")
    parser.add_argument("--until", help="articles reported on or before this date")
    parser.add_argument("--outlet", action="append", default=[],
                        help="only this outlet's articles (repeatable; any case)")
    parser.add_argument("--alerts", action="store_true",
                        help="alert for outlets that now join a story (default: none, "
                             "since what a re-run finds is old news)")
    parser.add_argument("--batch-size", type=int, default=100,
                        help="articles per committed batch (default 100)")


def run(args, settings) -> int:
    if args.batch_size < 1:
        print("backchannel reprocess: --batch-size must be at least 1", file=sys.stderr)
        return 2
    try:
        since = parse_when(args.since, "--since") if args.since else None
        until = parse_when(args.until, "--until", end_of_day=True) if args.until else None
    except SearchError as exc:
        print(f"backchannel reprocess: {exc}", file=sys.stderr)
        return 2
    wiring = wiring_from_settings(settings) if args.alerts else None
    conn = connect(settings)
    if wiring is not None:  # delivered while the run goes on, as a crawl's are
        wiring.start()
    outbox = wiring.outbox if wiring is not None else None
    try:
        selection = selection_for(args.stage, since=since, until=until,
                                  outlets=args.outlet, every=args.all)
        with progress_bar(args.stage) as step:
            summary = reprocess(conn, selection, batch_size=args.batch_size, outbox=outbox,
                                progress=step)
    finally:
        conn.close()
        if wiring is not None:
            wiring.drain(settings.alert_wait_seconds)
    for line in summary_lines(summary):
        print(line)
    for error in summary.errors[:10]:
        print(f"FAILED {error}", file=sys.stderr)
    return 1 if summary.errors else 0


def summary_lines(summary: Summary) -> list[str]:
    """What the run changed: articles per field, status changes, story changes."""
    resumed = " (resumed after an interrupted run)" if summary.resumed else ""
    lines = [f"reprocessed {plural(summary.seen, 'article')} from the {summary.stage} "
             f"stage{resumed}; "
             f"{summary.changed} changed"]
    if summary.fields:
        lines.append("fields changed: " + ", ".join(
            f"{name} {n}" for name, n in summary.fields.most_common()))
    if summary.transitions:
        lines.append("call status: " + ", ".join(
            f"{change} {n}" for change, n in summary.transitions.most_common()))
    events = summary.story_events
    lines.append(
        f"stories: {events.get('merge', 0)} merged, {events.get('split', 0)} split, "
        f"{events.get('move', 0)} articles moved, {events.get('remove', 0)} removed, "
        f"{events.get('delete', 0)} emptied stories deleted")
    if summary.story_status_changes:
        lines.append("story status: " + ", ".join(
            f"{change} {n}" for change, n in summary.story_status_changes.most_common()))
    if summary.not_articles:
        lines.append(f"{summary.not_articles} pages hold no article by today's extraction; "
                     "kept as stored")
    if summary.without_page:
        lines.append(f"{summary.without_page} articles have no stored page; re-classified "
                     "from their stored text")
    if summary.alerts:
        lines.append(plural(len(summary.alerts), "new alert"))
    return lines


@contextmanager
def progress_bar(stage: str):
    """On a terminal, a progress bar (rich); else nothing. Yields the step callback."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("reprocess", stage, BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(stage, total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield step
