"""`reprocess`: the stages run again over stored pages, nothing fetched. Extraction
(from the raw page), classification (from the stored text) and story grouping are
re-run in batches of article ids; each batch commits with the run's progress, so a run
that is killed goes on after its last batch when started again."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from archive.officials import official_stance
from archive.reprocess import (
    Run,
    Selection,
    advance_run,
    count_selected,
    events_since,
    finish_run,
    last_event_id,
    open_run,
    selected_batch,
    stories_of,
    story_statuses,
    update_article,
)
from archive.stories import restory, split_story
from classify import CLASSIFIER_VERSION, Classification, classify
from extract import EXTRACTOR_VERSION
from pipeline.page import FetchedPage, NotAnArticle
from pipeline.process import process, stored_confidence

log = logging.getLogger(__name__)

STAGES = ("extract", "classify", "stories")
# A change to any of these can move an article to another story.
STORY_FIELDS = {"title", "text", "published_at", "language", "contact_story", "call_status",
                "evidence", "official_stance"}


@dataclass
class Summary:
    """What a run changed, for the closing lines of `reprocess`."""

    stage: str
    resumed: bool = False
    seen: int = 0
    changed: int = 0
    fields: Counter = field(default_factory=Counter)  # field → articles changed
    transitions: Counter = field(default_factory=Counter)  # "none → unconfirmed" → count
    not_articles: int = 0  # pages that hold no article by today's extraction (kept)
    without_page: int = 0  # no raw page stored: re-classified from the stored text
    errors: list[str] = field(default_factory=list)
    story_events: dict[str, int] = field(default_factory=dict)
    story_status_changes: Counter = field(default_factory=Counter)
    alerts: list[int] = field(default_factory=list)


def selection_for(stage: str, *, since=None, until=None, outlets=(), every=False) -> Selection:
    return Selection(stage=stage, since=since, until=until, outlets=tuple(outlets),
                     stale=not every, extractor_version=EXTRACTOR_VERSION,
                     classifier_version=CLASSIFIER_VERSION)


def reprocess(conn: psycopg.Connection, selection: Selection, *, batch_size: int = 100,
              outbox=None, progress: Callable[[int, int], None] | None = None) -> Summary:
    """Run the stages from `selection.stage` on over the selected articles. `outbox`
    (alerts.outbox.Outbox): alerts for the outlets that now join a story; None: no alert,
    since what a re-run finds is old news. `progress(done, total)` after each batch."""
    run = open_run(conn, selection)
    if not run.resumed:
        run.counts = {"events_after": last_event_id(conn)}
    summary = Summary(selection.stage, resumed=run.resumed)
    _restore(summary, run.counts)
    statuses_before = story_statuses(conn)
    total = count_selected(conn, selection, run.last_article_id) + summary.seen
    if progress:
        progress(summary.seen, total)
    while True:
        rows = selected_batch(conn, selection, run.last_article_id, batch_size)
        if not rows:
            break
        with conn.transaction():
            touched: list[int] = []
            for row in rows:
                if _one(conn, row, selection.stage, summary, outbox):
                    touched.append(row["id"])
            for story_id in sorted(stories_of(conn, touched)):
                split_story(conn, story_id)
            run.last_article_id = rows[-1]["id"]
            _save(summary, run)
            advance_run(conn, run)
        if progress:
            progress(summary.seen, total)
    finish_run(conn, run)
    summary.story_events = events_since(conn, run.counts.get("events_after", 0))
    after = story_statuses(conn)
    for story_id, status in after.items():
        before = statuses_before.get(story_id)
        if before is not None and before != status:
            summary.story_status_changes[f"{before} → {status}"] += 1
    return summary


def _one(conn: psycopg.Connection, row: dict, stage: str, summary: Summary, outbox) -> bool:
    """Re-derive one article and bring its story up to date; True when its story was
    looked at (the batch then checks that story for a split)."""
    summary.seen += 1
    try:
        new, decision, extractor = _derive(row, stage, summary)
    except Exception as exc:  # one bad page must not stop the run; it is retried next time
        summary.errors.append(f"article {row['id']} ({row['url']}): {exc!r}")
        log.warning("reprocessing article %d failed: %r", row["id"], exc)
        return False
    if decision is not None and row["official"]:
        new["official_stance"] = official_stance(decision.contact_story,
                                                 decision.call_status, decision.stance)
    with conn.transaction():
        changed = update_article(conn, row, new, extractor, CLASSIFIER_VERSION)
        if changed:
            summary.changed += 1
            summary.fields.update(changed)
        if "call_status" in changed:
            summary.transitions[f"{row['call_status']} → {new['call_status']}"] += 1
        if stage != "stories" and not STORY_FIELDS.intersection(changed):
            return False
        regrouped = restory(conn, row["id"])
        if outbox is not None and regrouped.joined is not None:
            summary.alerts.extend(outbox.record(conn, regrouped.joined))
    return True


def _derive(row: dict, stage: str, summary: Summary
            ) -> tuple[dict, Classification | None, str | None]:
    """The article's fields as today's stages make them, the decision, and the extractor
    version to record (None: extraction did not run)."""
    if stage == "stories":
        return {}, None, None
    if stage == "extract" and row["page"] is None:
        summary.without_page += 1
    elif stage == "extract":
        page = FetchedPage(url=row["url"], final_url=row["url"],
                           status=row["http_status"] or 200,
                           content_type=row["content_type"], body=row["page"],
                           source_id=row["source_id"], entry_ids=row["feed_entry_ids"],
                           entry_title=row["title"], entry_published=row["published_at"])
        try:
            processed = process(page, lambda _url: row["outlet"])
        except NotAnArticle:
            summary.not_articles += 1  # kept as stored: nothing stored is lost
        else:
            article, decision = processed.article, processed.decision
            return ({"title": article.title, "text": article.text,
                     "canonical_url": article.canonical_url,
                     "published_at": article.published_at, "language": article.language,
                     "authors": article.authors, "site_name": article.site_name,
                     "contact_story": decision.contact_story,
                     "call_status": decision.call_status, "evidence": decision.evidence,
                     "confidence": article.confidence},
                    decision, EXTRACTOR_VERSION)
    decision = classify(row["title"], row["text"], row["language"])
    return ({"contact_story": decision.contact_story, "call_status": decision.call_status,
             "evidence": decision.evidence,
             "confidence": stored_confidence(decision.confidence)},
            decision,
            EXTRACTOR_VERSION if stage == "extract" else None)


_COUNTED = ("seen", "changed", "not_articles", "without_page")


def _save(summary: Summary, run: Run) -> None:
    """The summary's counts into the run, so that a resumed run reports the whole."""
    run.counts.update({name: getattr(summary, name) for name in _COUNTED})
    run.counts["fields"] = dict(summary.fields)
    run.counts["transitions"] = dict(summary.transitions)
    run.counts["errors"] = summary.errors[-50:]
    run.counts["alerts"] = summary.alerts


def _restore(summary: Summary, counts: dict) -> None:
    for name in _COUNTED:
        setattr(summary, name, counts.get(name, 0))
    summary.fields.update(counts.get("fields", {}))
    summary.transitions.update(counts.get("transitions", {}))
    summary.errors.extend(counts.get("errors", []))
    summary.alerts.extend(counts.get("alerts", []))
