"""Curation on the command line: `stories merge|split|set-status|rename` change the
stories, are logged in their history (`stories show`), and survive `reprocess`."""

from __future__ import annotations

import json

from conftest import run_cli
from story_texts import CALL, MEETING, add

from archive.stories import assign_story


def story_of(db, article_id: int) -> int:
    return db.execute("SELECT story_id FROM story_articles WHERE article_id = %s",
                      (article_id,)).fetchone()["story_id"]


def show(env, story_id: int) -> dict:
    result = run_cli(["stories", "show", str(story_id), "--format", "json"], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_corrections_are_made_logged_and_kept(db, cli_env):
    a1 = add(db, "a1", "North Post", "2025-04-01", CALL[0])
    a2 = add(db, "a2", "South Herald", "2025-04-02", CALL[1])
    b1 = add(db, "b1", "East Courier", "2025-04-03", MEETING[0], "confirmed")
    for article_id in (a1, a2, b1):
        assign_story(db, article_id)
    calls, meeting = story_of(db, a1), story_of(db, b1)
    assert calls != meeting and story_of(db, a2) == calls

    merged = run_cli(["stories", "merge", str(calls), str(meeting), "--note", "one trip"],
                     cli_env)
    assert merged.returncode == 0, merged.stderr
    assert {story_of(db, i) for i in (a1, a2, b1)} == {calls}
    split = run_cli(["stories", "split", str(calls), str(a2)], cli_env)
    assert split.returncode == 0, split.stderr
    second = story_of(db, a2)
    assert second != calls and story_of(db, b1) == calls
    status = run_cli(["stories", "set-status", str(second), "denied", "--note",
                      "both sides denied it"], cli_env)
    assert status.returncode == 0 and f"story {second} is denied" in status.stdout
    renamed = run_cli(["stories", "rename", str(second), "Prisoner", "swap", "call"], cli_env)
    assert renamed.returncode == 0, renamed.stderr

    again = run_cli(["reprocess", "--stage", "stories", "--all"], cli_env)
    assert again.returncode == 0, again.stderr
    assert story_of(db, b1) == calls and story_of(db, a2) == second  # pinned by hand
    story = show(cli_env, second)
    assert (story["status"], story["title"]) == ("denied", "Prisoner swap call")
    kinds = [e["kind"] for e in story["events"]]
    assert kinds == ["split", "status", "rename"]
    assert "both sides denied it" in story["events"][1]["text"]
    table = run_cli(["stories", "show", str(calls)], cli_env).stdout
    assert f"story {meeting} merged into this one (one trip)" in table

    back = run_cli(["stories", "set-status", str(second), "auto"], cli_env)
    assert f"story {second} is unconfirmed" in back.stdout


def test_bad_corrections_say_what_is_wrong(db, cli_env):
    a1 = add(db, "a1", "North Post", "2025-04-01", CALL[0])
    story = assign_story(db, a1).story_id
    cases = [
        (["stories", "merge", str(story)], 2, "two story ids are needed"),
        (["stories", "merge", str(story), "x"], 2, "must be numbers"),
        (["stories", "merge", str(story), str(story)], 1, "cannot be merged with itself"),
        (["stories", "merge", str(story), "999999"], 1, "no story 999999"),
        (["stories", "split", str(story), str(a1)], 1, "some, but not all"),
        (["stories", "split", str(story), "424242"], 1, "not in story"),
        (["stories", "set-status", str(story), "maybe"], 1, "status must be one of"),
        (["stories", "rename", str(story)], 2, "a title are needed"),
    ]
    for args, code, message in cases:
        result = run_cli(args, cli_env)
        assert (result.returncode, message in result.stderr) == (code, True), (args, result)
        assert "Traceback" not in result.stderr
