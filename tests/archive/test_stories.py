"""Story grouping against a real PostgreSQL: the seeds give two stories whatever the
order, assignment is idempotent, and distinct contacts stay distinct stories."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from archive.store import ArticleRecord, store_article
from archive.stories import assign_story, list_stories, story_timeline

# Our own arrangement of the seeds (dates as in DESIGN.md), outlets invented for tests.
SEED_ARTICLES = [
    ("004", "Kyiv Review", "2025-02-09T18:30:00+00:00"),
    ("002", "Bosphorus Daily", "2025-02-10T09:15:00+00:00"),
    ("003", "Gulf Tribune", "2025-02-10T14:40:00+00:00"),
    ("000", "Finance Wire", "2025-03-23T11:00:00+00:00"),
    ("001", "Kabul Times", "2025-03-24T07:20:00+00:00"),
]


def require_classification(db) -> None:
    row = db.execute(
        """SELECT count(*) AS n FROM information_schema.columns
           WHERE table_name = 'articles' AND column_name IN ('contact_story', 'call_status',
                                                              'evidence')"""
    ).fetchone()
    if row["n"] < 3:
        pytest.skip("classification columns (migration 0002) not in the archive yet")


def add_article(db, key: str, outlet: str, published: str, text: str, *,
                status: str = "unconfirmed", evidence: str | None = None,
                title: str | None = None, contact: bool = True) -> int:
    result = store_article(db, ArticleRecord(
        url=f"https://{outlet.lower().replace(' ', '-')}.example/{key}", outlet=outlet,
        text=text, title=title, published_at=datetime.fromisoformat(published),
        language="en"))
    db.execute("UPDATE articles SET contact_story = %s, call_status = %s, evidence = %s "
               "WHERE id = %s", (contact, status, evidence, result.article_id))
    return result.article_id


def store_seeds(db, seeds_dir: Path) -> dict[str, int]:
    ids = {}
    for key, outlet, published in SEED_ARTICLES:
        text = next(seeds_dir.glob(f"{key}_*.txt")).read_text(encoding="utf-8")
        ids[key] = add_article(db, key, outlet, published, text)
    return ids


def groups(db, ids: dict[str, int]) -> set[frozenset[str]]:
    by_story: dict[int, set[str]] = {}
    names = {v: k for k, v in ids.items()}
    for row in db.execute("SELECT story_id, article_id FROM story_articles").fetchall():
        by_story.setdefault(row["story_id"], set()).add(names[row["article_id"]])
    return {frozenset(g) for g in by_story.values()}


def copy_marks(db, ids: dict[str, int]) -> dict[str, str]:
    names = {v: k for k, v in ids.items()}
    rows = db.execute("SELECT article_id, is_copy_of FROM story_articles "
                      "WHERE is_copy_of IS NOT NULL").fetchall()
    return {names[r["article_id"]]: names[r["is_copy_of"]] for r in rows}


EXPECTED = {frozenset({"002", "003", "004"}), frozenset({"000", "001"})}


@pytest.mark.parametrize("order", ["date", "reverse", "batch", "shuffled"])
def test_seeds_give_two_stories_in_any_order(db, seeds_dir, order):
    require_classification(db)
    if order == "batch":
        ids = store_seeds(db, seeds_dir)
        for key in sorted(ids):
            assign_story(db, ids[key])
    else:
        keys = [k for k, _, _ in SEED_ARTICLES]
        keys = {"date": keys, "reverse": keys[::-1],
                "shuffled": ["000", "003", "001", "004", "002"]}[order]
        rows = {k: (o, p) for k, o, p in SEED_ARTICLES}
        ids = {}
        for key in keys:
            text = next(seeds_dir.glob(f"{key}_*.txt")).read_text(encoding="utf-8")
            ids[key] = add_article(db, key, *rows[key], text)
            assign_story(db, ids[key])
    assert groups(db, ids) == EXPECTED
    assert copy_marks(db, ids) == {"001": "000"}
    stories = list_stories(db)
    assert [s["outlets"] for s in stories] == [
        ["Finance Wire", "Kabul Times"], ["Kyiv Review", "Bosphorus Daily", "Gulf Tribune"]]
    assert stories[0]["first_article_id"] == ids["000"]


def test_date_order_alerts_and_attribution(db, seeds_dir):
    require_classification(db)
    results = {}
    for key, outlet, published in SEED_ARTICLES:
        text = next(seeds_dir.glob(f"{key}_*.txt")).read_text(encoding="utf-8")
        results[key] = assign_story(db, add_article(db, key, outlet, published, text))
    assert [k for k, r in results.items() if r.is_new_story] == ["004", "000"]
    assert all(r.is_new_outlet for r in results.values())  # five alerts
    assert results["001"].copy_of is not None and results["000"].copy_of is None
    assert results["000"].wire == "Reuters"
    assert results["002"].wire == "Reuters"
    assert results["001"].wire  # "The post … first appeared on …"


def test_assignment_is_idempotent(db, seeds_dir):
    require_classification(db)
    ids = store_seeds(db, seeds_dir)
    first = {k: assign_story(db, i) for k, i in ids.items()}
    snapshot = db.execute("SELECT * FROM story_articles ORDER BY article_id").fetchall()
    stories = db.execute("SELECT id, title, status, first_article_id FROM stories "
                         "ORDER BY id").fetchall()
    again = {k: assign_story(db, i) for k, i in ids.items()}
    assert db.execute("SELECT * FROM story_articles ORDER BY article_id").fetchall() == snapshot
    assert db.execute("SELECT id, title, status, first_article_id FROM stories "
                      "ORDER BY id").fetchall() == stories
    for key in ids:
        assert not again[key].joined_now
        assert again[key].story_id == first[key].story_id
        assert again[key].copy_of == first[key].copy_of


def test_runs_inside_callers_transaction(db, seeds_dir):
    require_classification(db)
    ids = store_seeds(db, seeds_dir)

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), db.transaction():
        assign_story(db, ids["000"])
        raise Rollback
    assert db.execute("SELECT count(*) AS n FROM stories").fetchone()["n"] == 0


def test_not_a_contact_story_is_not_assigned(db):
    require_classification(db)
    article = add_article(db, "x", "Some Outlet", "2025-01-01T00:00:00+00:00",
                          "Markets rose on Friday. " * 20, status="none", contact=False)
    assert assign_story(db, article) is None
    assert list_stories(db) == []


# Our own small reports of invented contacts.
CONFIRMED = (
    "Russian President Vladimir Putin and U.S. President Donald Trump spoke by phone on "
    "Tuesday for ninety minutes, the White House and the Kremlin said in statements.\n"
    "The two leaders discussed a ceasefire at sea, a prisoner exchange and energy "
    "infrastructure, according to a readout published by the Kremlin in the evening.\n"
    "Kremlin aide Yuri Ushakov told reporters the conversation was frank and useful."
)
SECOND_CALL = (
    "Donald Trump may have spoken to Vladimir Putin again on Friday, two people familiar "
    "with the matter said, in a second conversation that neither government has announced.\n"
    "Kremlin spokesman Dmitry Peskov told reporters he could neither confirm nor deny "
    "any new contact and had nothing to add about the presidents' schedules this weekend.\n"
    "The sources said the leaders talked about grain shipments and a summit venue."
)
SECOND_CALL_AGAIN = (
    "Trump and Putin possibly held another phone conversation on Friday, according to "
    "anonymous officials quoted by several newspapers over the weekend in Washington.\n"
    "Peskov said he could neither confirm nor deny it, and added that the Kremlin "
    "informs the public about the contacts it is aware of, as it always has.\n"
    "Grain shipments and a possible summit were said to be on the agenda of the call."
)


def test_confirmed_call_then_unconfirmed_second_call_are_two_stories(db):
    require_classification(db)
    first = assign_story(db, add_article(
        db, "c1", "Wire One", "2025-05-06T18:00:00+00:00", CONFIRMED, status="confirmed",
        evidence=CONFIRMED.split("\n")[0], title="Putin and Trump hold phone call"))
    second = assign_story(db, add_article(
        db, "u1", "Paper Two", "2025-05-10T08:00:00+00:00", SECOND_CALL,
        evidence=SECOND_CALL.split("\n")[0], title="Trump may have spoken to Putin again"))
    third = assign_story(db, add_article(
        db, "u2", "Paper Three", "2025-05-11T08:00:00+00:00", SECOND_CALL_AGAIN,
        evidence=SECOND_CALL_AGAIN.split("\n")[0], title="Another Trump-Putin call?"))
    assert first.story_id != second.story_id
    assert second.story_id == third.story_id and not third.is_new_story
    statuses = {s["id"]: s["status"] for s in list_stories(db)}
    assert statuses == {first.story_id: "confirmed", second.story_id: "unconfirmed"}


MONDAY_CALL = (
    "Vladimir Putin and Donald Trump spoke on Monday, according to three officials who "
    "asked not to be named, a call that the Kremlin has not acknowledged.\n"
    "Peskov declined to comment on whether the presidents had discussed sanctions relief "
    "for Russian banks or the Black Sea grain corridor during their conversation.\n"
)
THURSDAY_CALL = (
    "Donald Trump and Vladimir Putin talked again on Thursday, a person briefed on the "
    "conversation said, days after an earlier call that neither side confirmed.\n"
    "The Kremlin spokesman Dmitry Peskov said he had nothing to say about sanctions relief "
    "or the grain corridor, and could neither confirm nor deny the conversation.\n"
)


def test_two_calls_in_one_week_are_two_stories(db):
    require_classification(db)
    monday = assign_story(db, add_article(
        db, "m", "Paper Four", "2025-06-03T09:00:00+00:00", MONDAY_CALL,
        evidence=MONDAY_CALL.split("\n")[0]))
    thursday = assign_story(db, add_article(
        db, "t", "Paper Five", "2025-06-06T09:00:00+00:00", THURSDAY_CALL,
        evidence=THURSDAY_CALL.split("\n")[0]))
    assert monday.story_id != thursday.story_id
    assert thursday.is_new_story


def test_timeline_lists_articles_in_order(db, seeds_dir):
    require_classification(db)
    ids = store_seeds(db, seeds_dir)
    for key in ["001", "000"]:
        story = assign_story(db, ids[key]).story_id
    timeline = story_timeline(db, story)
    assert [a["article_id"] for a in timeline["articles"]] == [ids["000"], ids["001"]]
    assert timeline["articles"][1]["is_copy_of"] == ids["000"]
    assert timeline["first_outlet"] == "Finance Wire"
    assert story_timeline(db, story + 1000) is None
    since = list_stories(db, since=datetime.fromisoformat("2025-03-01T00:00:00+00:00")
                         + timedelta(days=30))
    assert since == []


def run_stories_command(argv: list[str], database_url: str, capsys) -> tuple[int, str]:
    """The command module on its own parser (cli.py wires it in separately)."""
    import argparse

    from backchannel.commands import stories as command
    from core.config import Settings

    parser = argparse.ArgumentParser(prog="backchannel")
    command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["stories", *argv])
    code = args.handler(args, Settings(database_url=database_url))
    return code, capsys.readouterr().out


def test_stories_command(db, database_url, seeds_dir, capsys):
    require_classification(db)
    ids = store_seeds(db, seeds_dir)
    for article in ids.values():
        assign_story(db, article)
    code, out = run_stories_command(["--format", "json"], database_url, capsys)
    stories = [json.loads(line) for line in out.splitlines()]  # JSON Lines
    assert code == 0 and [s["outlets"][0] for s in stories] == ["Finance Wire", "Kyiv Review"]
    code, out = run_stories_command(["--since", "2025-03-01"], database_url, capsys)
    assert code == 0 and "Finance Wire, Kabul Times" in out and "Kyiv Review" not in out
    code, out = run_stories_command(["show", str(stories[0]["id"])], database_url, capsys)
    assert code == 0 and f"copy of {ids['000']}" in out and "new outlet" in out
    code, out = run_stories_command(["show", str(stories[0]["id"]), "--format", "json"],
                                    database_url, capsys)
    assert [a["outlet"] for a in json.loads(out)["articles"]] == ["Finance Wire", "Kabul Times"]
    assert run_stories_command(["show", "999999"], database_url, capsys)[0] == 1
    assert run_stories_command(["--status", "confirmed"], database_url, capsys)[1].strip() \
        == "no stories"
