"""The rule and the outbox against a real PostgreSQL: which story joins alert, exactly
once, with the facts a reader needs."""

from __future__ import annotations

import threading

import psycopg
import pytest
from alerting import ENVOY_MEETING, PHONE_CALL, report

from alerts.outbox import Outbox, list_alerts
from alerts.rules import Rule, rules_from_settings
from archive.db import connect
from archive.stories import assign_story
from core.config import ConfigError, Settings

CHANNELS = ["email", "slack"]


@pytest.fixture
def outbox() -> Outbox:
    return Outbox(rules=[Rule()], channels=CHANNELS)


def alert_rows(db) -> list[dict]:
    return db.execute("SELECT * FROM alerts ORDER BY id").fetchall()


def test_first_report_and_each_new_outlet_alert_once(db, outbox):
    _, first, a1 = report(db, outbox, "Harbour Post", "a", "2025-05-06T08:00:00+00:00")
    _, second, a2 = report(db, outbox, "Lakeside Herald", "b", "2025-05-06T10:00:00+00:00",
                           PHONE_CALL + "Our correspondent adds a line of her own.")
    _, third, a3 = report(db, outbox, "Harbour Post", "c", "2025-05-06T12:00:00+00:00",
                          PHONE_CALL + "An update with a new paragraph at the end.")
    assert first.story_id == second.story_id == third.story_id
    assert len(a1) == 1 and len(a2) == 1 and a3 == []  # same outlet again: nothing
    rows = alert_rows(db)
    assert [(r["kind"], r["outlet"]) for r in rows] == [
        ("first_report", "Harbour Post"), ("new_outlet", "Lakeside Herald")]
    deliveries = db.execute("SELECT alert_id, channel, status FROM alert_deliveries "
                            "ORDER BY alert_id, channel").fetchall()
    assert [(d["alert_id"], d["channel"], d["status"]) for d in deliveries] == [
        (a1[0], "email", "pending"), (a1[0], "slack", "pending"),
        (a2[0], "email", "pending"), (a2[0], "slack", "pending")]


def test_seen_again_or_assigned_again_fires_nothing(db, outbox):
    article_id, assignment, created = report(db, outbox, "Harbour Post", "a",
                                             "2025-05-06T08:00:00+00:00")
    assert len(created) == 1
    again = assign_story(db, article_id)  # the page seen again in a later pass
    assert again.joined_now is False
    assert outbox.record(db, again) == []
    # even a replayed decision (a crashed process redoing its work) cannot alert twice
    assert outbox.record(db, assignment) == []
    assert len(alert_rows(db)) == 1


def test_an_older_article_of_an_alerted_outlet_does_not_alert_again(db, outbox):
    report(db, outbox, "Harbour Post", "late", "2025-05-06T12:00:00+00:00")
    _, older, created = report(db, outbox, "Harbour Post", "early",
                               "2025-05-06T07:00:00+00:00",
                               PHONE_CALL + "An earlier version of the same report.")
    assert older.is_new_outlet  # it is now the outlet's first article in the story…
    assert created == []  # …but the outlet was alerted for this story already
    assert len(alert_rows(db)) == 1


def test_confirmed_stories_alert_only_when_a_rule_asks(db):
    quiet = Outbox(rules=[Rule()], channels=CHANNELS)
    _, _, created = report(db, quiet, "Harbour Post", "a", "2025-05-06T08:00:00+00:00",
                           status="confirmed")
    assert created == []
    loud = Outbox(rules=[Rule(name="all", statuses=("unconfirmed", "confirmed"))],
                  channels=CHANNELS)
    _, _, created = report(db, loud, "Lakeside Herald", "b", "2025-05-06T09:00:00+00:00",
                           status="confirmed")
    assert len(created) == 1


def test_rules_narrow_by_outlet_language_and_channel(db):
    outbox = Outbox(rules=[
        Rule(name="harbour-by-mail", outlets=("harbour post",), channels=("email",)),
        Rule(name="russian", languages=("ru",)),
    ], channels=CHANNELS)
    _, _, harbour = report(db, outbox, "Harbour Post", "a", "2025-05-06T08:00:00+00:00")
    _, _, other = report(db, outbox, "Lakeside Herald", "b", "2025-05-06T09:00:00+00:00",
                         PHONE_CALL + "Another paragraph.")
    assert len(harbour) == 1 and other == []
    assert alert_rows(db)[0]["rule"] == "harbour-by-mail"
    channels = db.execute("SELECT channel FROM alert_deliveries").fetchall()
    assert [c["channel"] for c in channels] == ["email"]


def test_the_message_facts_name_earlier_outlets_copies_and_the_story(db, outbox):
    first_id, _, _ = report(db, outbox, "Harbour Post", "a", "2025-05-06T08:00:00+00:00",
                            title="Leaders said to have spoken")
    _, _, created = report(db, outbox, "Lakeside Herald", "b", "2025-05-06T10:30:00+00:00",
                           title="Leaders said to have spoken",
                           evidence="Two people familiar with the conversation said so.")
    facts = alert_rows(db)[1]["payload"]
    assert facts["outlet"] == "Lakeside Herald" and facts["kind"] == "new_outlet"
    assert facts["url"] == "https://lakeside-herald.example/b"
    assert facts["evidence"] == "Two people familiar with the conversation said so."
    assert facts["published_at"].startswith("2025-05-06T10:30")
    assert [e["outlet"] for e in facts["earlier"]] == ["Harbour Post"]
    assert facts["earlier"][0]["reported_at"].startswith("2025-05-06T08:00")
    assert facts["copy_of"]["outlet"] == "Harbour Post"  # the same text, two hours later
    assert facts["story"]["position"] == 2 and facts["story"]["outlets"] == 2
    assert facts["story"]["title"] == "Leaders said to have spoken"
    assert facts["story"]["status"] == "unconfirmed"


def test_two_contacts_are_two_first_reports(db, outbox):
    report(db, outbox, "Harbour Post", "a", "2025-05-06T08:00:00+00:00")
    report(db, outbox, "Harbour Post", "b", "2025-06-20T08:00:00+00:00", ENVOY_MEETING)
    rows = alert_rows(db)
    assert [r["kind"] for r in rows] == ["first_report", "first_report"]
    assert rows[0]["story_id"] != rows[1]["story_id"]


def test_a_rolled_back_transaction_leaves_neither_article_nor_alert(db, outbox):
    class Crash(Exception):
        pass

    with pytest.raises(Crash), db.transaction():
        report(db, outbox, "Harbour Post", "a", "2025-05-06T08:00:00+00:00")
        raise Crash  # the process dies before the commit
    assert db.execute("SELECT count(*) AS n FROM articles").fetchone()["n"] == 0
    assert alert_rows(db) == []
    _, _, created = report(db, outbox, "Harbour Post", "a", "2025-05-06T08:00:00+00:00")
    assert len(created) == 1  # the retry alerts, once


def test_two_processes_deciding_the_same_join_alert_once(database_url, outbox):
    """Two connections race to record the same story join: the unique key lets one win."""
    setup = connect(database_url)
    _, assignment, _ = report(setup, None, "Harbour Post", "a", "2025-05-06T08:00:00+00:00")
    barrier = threading.Barrier(2)
    results: list[list[int]] = []

    def decide() -> None:
        with psycopg.connect(database_url, autocommit=True,
                             row_factory=psycopg.rows.dict_row) as conn:
            barrier.wait()
            with conn.transaction():
                results.append(outbox.record(conn, assignment))

    threads = [threading.Thread(target=decide) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(len(r) for r in results) == [0, 1]
    assert setup.execute("SELECT count(*) AS n FROM alerts").fetchone()["n"] == 1
    setup.close()


def test_digest_channels_share_one_window(db):
    outbox = Outbox(rules=[Rule()], channels=["email", "slack"],
                    digest_minutes={"email": 10})
    report(db, outbox, "Harbour Post", "a", "2025-05-06T08:00:00+00:00")
    report(db, outbox, "Lakeside Herald", "b", "2025-05-06T09:00:00+00:00",
           PHONE_CALL + "More.")
    due = db.execute("SELECT channel, next_attempt_at - now() AS wait FROM alert_deliveries "
                     "ORDER BY alert_id").fetchall()
    email = [d["wait"].total_seconds() for d in due if d["channel"] == "email"]
    slack = [d["wait"].total_seconds() for d in due if d["channel"] == "slack"]
    assert all(540 < w <= 600 for w in email) and email[0] == email[1]
    assert all(w <= 1 for w in slack)


def test_list_alerts_filters_by_delivery_state(db, outbox):
    report(db, outbox, "Harbour Post", "a", "2025-05-06T08:00:00+00:00")
    report(db, outbox, "Lakeside Herald", "b", "2025-05-06T09:00:00+00:00",
           PHONE_CALL + "More.")
    db.execute("UPDATE alert_deliveries SET status = 'failed', last_error = 'boom' "
               "WHERE channel = 'slack' AND alert_id = (SELECT min(id) FROM alerts)")
    failed = list_alerts(db, "failed")
    assert [a["outlet"] for a in failed] == ["Harbour Post"]
    assert {d["channel"]: d["status"] for d in failed[0]["deliveries"]} == {
        "email": "pending", "slack": "failed"}
    assert len(list_alerts(db)) == 2
    with pytest.raises(ValueError, match="unknown status"):
        list_alerts(db, "lost")


def test_rules_from_configuration():
    assert rules_from_settings(Settings()) == [Rule()]
    settings = Settings(extra={"alert_rules": [
        {"name": "all", "statuses": ["unconfirmed", "confirmed"], "languages": ["EN"]}]})
    assert rules_from_settings(settings) == [
        Rule(name="all", statuses=("unconfirmed", "confirmed"), languages=("en",))]
    for bad, message in [
        ([{"statuses": ["rumoured"]}], "statuses must be among"),
        ([{"outlet": ["x"]}], "unknown keys"),
        ([{"outlets": "x", "name": ""}], "name must be"),
        ({"name": "x"}, "array of tables"),
        ([{"name": "a"}, {"name": "a"}], "unique"),
    ]:
        with pytest.raises(ConfigError, match=message):
            rules_from_settings(Settings(extra={"alert_rules": bad}))
    with pytest.raises(ConfigError, match="not configured"):
        Outbox.from_settings(Settings(extra={"alert_rules": [{"channels": ["slack"]}]}), [])
