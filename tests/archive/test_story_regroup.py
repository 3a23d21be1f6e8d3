"""Stories follow their articles (`archive.stories.restory`, `split_story`): an article
that no longer reports a contact leaves its story, one that matches none of its story's
articles moves to the story it belongs to, a story holding two contacts is split, and
every change is logged. Texts are our own."""

from __future__ import annotations

from story_texts import CALL, MEETING, add

from archive.stories import assign_story, restory, split_story, story_timeline


def groups(db) -> set[frozenset[int]]:
    by_story: dict[int, set[int]] = {}
    for row in db.execute("SELECT story_id, article_id FROM story_articles"):
        by_story.setdefault(row["story_id"], set()).add(row["article_id"])
    return {frozenset(g) for g in by_story.values()}


def events(db) -> list[str]:
    return [r["kind"] for r in db.execute("SELECT kind FROM story_events ORDER BY id")]


def lump(db, ids: list[int]) -> int:
    """One story holding all these articles, as an older grouping left it."""
    story = db.execute("INSERT INTO stories (title, status, first_article_id) "
                       "VALUES ('old', 'unconfirmed', %s) RETURNING id", (ids[0],)).fetchone()
    for article_id in ids:
        outlet = db.execute("SELECT outlet FROM articles WHERE id = %s",
                            (article_id,)).fetchone()["outlet"]
        db.execute("INSERT INTO story_articles (story_id, article_id, outlet) "
                   "VALUES (%s, %s, %s)", (story["id"], article_id, outlet))
    return story["id"]


def test_a_story_of_two_contacts_is_split_once(db):
    a1 = add(db, "a1", "North Post", "2025-04-01", CALL[0])
    a2 = add(db, "a2", "South Herald", "2025-04-02", CALL[1])
    b1 = add(db, "b1", "East Courier", "2025-04-03", MEETING[0], "confirmed")
    b2 = add(db, "b2", "West Wire", "2025-04-04", MEETING[1], "confirmed")
    story = lump(db, [a1, a2, b1, b2])
    created = split_story(db, story)
    assert len(created) == 1
    assert groups(db) == {frozenset({a1, a2}), frozenset({b1, b2})}
    kept = db.execute("SELECT status, first_article_id FROM stories WHERE id = %s",
                      (story,)).fetchone()
    assert (kept["status"], kept["first_article_id"]) == ("unconfirmed", a1)
    assert db.execute("SELECT status FROM stories WHERE id = %s",
                      (created[0],)).fetchone()["status"] == "confirmed"
    assert events(db) == ["split"]
    assert split_story(db, story) == [] and split_story(db, created[0]) == []
    assert events(db) == ["split"]  # a second look changes nothing


def test_an_article_that_matches_none_of_its_story_moves_to_its_own(db):
    a1 = add(db, "a1", "North Post", "2025-04-01", CALL[0])
    a2 = add(db, "a2", "South Herald", "2025-04-02", CALL[1])
    b2 = add(db, "b2", "West Wire", "2025-04-04", MEETING[1], "confirmed")
    meeting_story = assign_story(db, b2).story_id
    b1 = add(db, "b1", "East Courier", "2025-04-03", MEETING[0], "confirmed")
    call_story = lump(db, [a1, a2, b1])
    moved = restory(db, b1)
    assert moved.story_id == meeting_story and moved.joined.is_new_outlet
    assert groups(db) == {frozenset({a1, a2}), frozenset({b1, b2})}
    move = db.execute("SELECT story_id, other_id, article_id FROM story_events "
                      "WHERE kind = 'move'").fetchone()
    assert (move["story_id"], move["other_id"], move["article_id"]) == \
        (call_story, meeting_story, b1)
    shown = story_timeline(db, call_story)["events"]
    assert [(e["kind"], e["other_id"]) for e in shown] == [("move", meeting_story)]
    before = events(db)
    assert restory(db, b1).joined is None and events(db) == before  # a fixed point


def test_an_article_that_no_longer_reports_a_contact_leaves_and_empties(db):
    a1 = add(db, "a1", "North Post", "2025-04-01", CALL[0])
    a2 = add(db, "a2", "South Herald", "2025-04-02", CALL[1])
    story = assign_story(db, a1).story_id
    assert assign_story(db, a2).story_id == story
    db.execute("UPDATE articles SET call_status = 'none' WHERE id = %s", (a2,))
    assert restory(db, a2).story_id is None
    assert groups(db) == {frozenset({a1})}
    db.execute("UPDATE articles SET contact_story = false, call_status = 'none' "
               "WHERE id = %s", (a1,))
    assert restory(db, a1).story_id is None
    assert groups(db) == set()
    assert db.execute("SELECT count(*) AS n FROM stories").fetchone()["n"] == 0
    assert events(db) == ["remove", "remove", "delete"]


def test_an_article_that_now_bridges_two_stories_merges_them(db):
    a1 = add(db, "a1", "North Post", "2025-04-01", CALL[0])
    a2 = add(db, "a2", "South Herald", "2025-04-02", CALL[1])
    first = lump(db, [a1])
    second = lump(db, [a2])  # an older rule kept them apart
    assert restory(db, a2).story_id == first
    assert groups(db) == {frozenset({a1, a2})}
    merge = db.execute("SELECT story_id, other_id FROM story_events").fetchone()
    assert (merge["story_id"], merge["other_id"]) == (first, second)
