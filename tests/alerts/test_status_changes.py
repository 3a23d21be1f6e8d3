"""The governments' own word, end to end: outlets report a call unconfirmed, then an
official site publishes a readout (or a denial); the story changes status once, with
the readout as evidence, and one status-change alert goes out."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from conftest import run_cli
from newsroom import Newsroom, Route, article_html, rss_feed

DAY = datetime.fromisoformat("2025-06-03T08:00:00+00:00")

# Our own invented reports of one claimed call, and the governments' statements on it.
CLAIMS = {
    "Harbour Post": ("Putin and Trump said to have discussed grain corridor by phone", [
        "Vladimir Putin and Donald Trump discussed a grain corridor across the Black Sea in a "
        "telephone call on Monday, two people familiar with the conversation said.",
        "Neither the Kremlin nor the White House has confirmed the call, which the people "
        "said also touched on a prisoner exchange and shipping insurance.",
    ]),
    "Lakeside Herald": ("Kremlin silent on reported Putin-Trump grain call", [
        "The Kremlin declined to confirm reports that Vladimir Putin spoke with Donald Trump "
        "by phone on Monday about a Black Sea grain corridor and a prisoner exchange.",
        "Spokesman Dmitry Peskov told reporters he had nothing to add about the call, and the "
        "White House did not answer questions about the grain corridor either.",
    ]),
    "Valley Times": ("Reported Putin-Trump call on grain: what we know", [
        "A telephone call between Vladimir Putin and Donald Trump about the Black Sea grain "
        "corridor has been reported by several outlets but not confirmed by either side.",
        "Shipping firms said a corridor deal would lower insurance costs, and diplomats said "
        "a prisoner exchange had been discussed in earlier contacts.",
    ]),
}
READOUT = ("Telephone conversation with President of the United States Donald Trump", [
    "Vladimir Putin had a telephone conversation with President of the United States Donald "
    "Trump on Monday. The presidents discussed the Black Sea grain corridor, shipping "
    "insurance and a prisoner exchange.",
    "The conversation was frank and businesslike, and the presidents agreed to stay in "
    "contact on the grain corridor and other matters.",
])
DENIAL = ("Dmitry Peskov answered questions from journalists", [
    "Dmitry Peskov said there had been no telephone conversation between Vladimir Putin and "
    "Donald Trump on Monday, and that reports of a call about the Black Sea grain corridor "
    "were untrue.",
    "Peskov added that contacts with Washington on a prisoner exchange continued through "
    "the usual channels and would be announced in due course.",
])
LATE_CLAIM = ("Putin-Trump grain call still unconfirmed, paper says", [
    "Vladimir Putin and Donald Trump held an unconfirmed telephone call on Monday about the "
    "Black Sea grain corridor, according to a person familiar with the talks.",
    "The person said a prisoner exchange and shipping insurance were also discussed during "
    "the call between the presidents.",
])


def publish(site, outlet: str, key: str, title: str, paragraphs: list[str],
            when: datetime) -> str:
    path = f"/news/{key}.html"
    url = site.url(path)
    site.routes[path] = Route(article_html(title, paragraphs, when, "Staff", outlet, url))
    items = getattr(site, "items", [])
    items.append({"title": title, "link": url, "guid": key, "published": when})
    site.items = items
    site.routes["/rss.xml"] = Route(rss_feed(outlet, site.base, items),
                                    content_type="application/rss+xml", conditional=True)
    return url


@pytest.fixture
def newsroom():
    room = Newsroom()
    yield room
    room.close()


@pytest.fixture
def setup(newsroom, cli_env, tmp_path, http_receiver):
    for n, (outlet, (title, paragraphs)) in enumerate(CLAIMS.items()):
        publish(newsroom.site(outlet), outlet, f"claim-{n}", title, paragraphs,
                DAY + timedelta(hours=n))
    official = newsroom.site("Kremlin")
    official.routes["/rss.xml"] = Route(rss_feed("Kremlin", official.base, []),
                                        content_type="application/rss+xml", conditional=True)
    late = newsroom.site("Coastal Courier")
    late.routes["/rss.xml"] = Route(rss_feed("Coastal Courier", late.base, []),
                                    content_type="application/rss+xml", conditional=True)
    sources = tmp_path / "sources.toml"
    text = newsroom.sources_toml({name: ["/rss.xml"] for name in newsroom.sites})
    sources.write_text(text.replace('name = "Kremlin"', 'name = "Kremlin"\nofficial = "ru"'))
    env = {**cli_env, "BACKCHANNEL_WEBHOOK_URL": http_receiver.url("/hook")}
    return newsroom, str(sources), env


def crawl(sources: str, env: dict) -> None:
    result = run_cli(["crawl", "--all", "--sources", sources], env)
    assert result.returncode == 0, result.stderr[-3000:]


def kinds(receiver) -> list[tuple[str, str]]:
    return [(p.body["kind"], p.body["outlet"]) for p in receiver.accepted_at("/hook")]


def test_a_readout_confirms_the_story_once(setup, db, http_receiver):
    room, sources, env = setup
    crawl(sources, env)
    assert sorted(outlet for _, outlet in kinds(http_receiver)) == sorted(CLAIMS)
    [story] = db.execute("SELECT id, status FROM stories").fetchall()  # one story
    assert story["status"] == "unconfirmed"

    kremlin = room.sites["Kremlin"]
    readout = publish(kremlin, "Kremlin", "readout", *READOUT, DAY + timedelta(hours=9))
    crawl(sources, env)
    row = db.execute("SELECT s.id, s.status, a.url AS evidence_url FROM stories s "
                     "JOIN articles a ON a.id = s.status_article_id").fetchone()
    assert row["id"] == story["id"] and row["status"] == "confirmed"
    assert row["evidence_url"] == readout
    changes = [p.body for p in http_receiver.accepted_at("/hook")
               if p.body["kind"] == "status_change"]
    assert len(changes) == 1
    assert changes[0]["outlet"] == "Kremlin" and changes[0]["url"] == readout
    assert changes[0]["previous_status"] == "unconfirmed"
    assert changes[0]["story"]["status"] == "confirmed"

    # a later report of the confirmed call is not news of an unconfirmed one
    late = room.sites["Coastal Courier"]
    publish(late, "Coastal Courier", "late", *LATE_CLAIM, DAY + timedelta(hours=12))
    crawl(sources, env)
    crawl(sources, env)
    assert len(http_receiver.accepted_at("/hook")) == 4  # 3 outlets + 1 status change
    stories = json.loads(run_cli(["stories", "--format", "json"], env).stdout)
    [only] = stories if isinstance(stories, list) else [stories]
    assert only["status"] == "confirmed"
    members = db.execute("SELECT count(*) AS n FROM story_articles").fetchone()["n"]
    assert members == 5


def test_an_official_denial_is_recorded_and_alerted(setup, db, http_receiver):
    room, sources, env = setup
    crawl(sources, env)
    kremlin = room.sites["Kremlin"]
    denial = publish(kremlin, "Kremlin", "denial", *DENIAL, DAY + timedelta(hours=10))
    crawl(sources, env)
    row = db.execute("SELECT s.status, a.url, a.official_stance FROM stories s "
                     "JOIN articles a ON a.id = s.status_article_id").fetchone()
    assert (row["status"], row["url"], row["official_stance"]) == ("denied", denial, "denies")
    changes = [p.body for p in http_receiver.accepted_at("/hook")
               if p.body["kind"] == "status_change"]
    assert [(c["outlet"], c["story"]["status"]) for c in changes] == [("Kremlin", "denied")]


def test_status_change_alerts_can_be_switched_off(setup, db, http_receiver, tmp_path):
    room, sources, env = setup
    config = tmp_path / "backchannel.toml"
    config.write_text('[[alert_rules]]\nname = "quiet"\nstatus_changes = false\n')
    env = {**env, "BACKCHANNEL_CONFIG": str(config)}
    crawl(sources, env)
    publish(room.sites["Kremlin"], "Kremlin", "readout", *READOUT, DAY + timedelta(hours=9))
    crawl(sources, env)
    assert db.execute("SELECT status FROM stories").fetchone()["status"] == "confirmed"
    assert [k for k, _ in kinds(http_receiver)].count("status_change") == 0


def test_reclassify_brings_stances_and_story_status_up_to_date(setup, db, http_receiver):
    room, sources, env = setup
    crawl(sources, env)
    publish(room.sites["Kremlin"], "Kremlin", "readout", *READOUT, DAY + timedelta(hours=9))
    crawl(sources, env)
    sent = len(http_receiver.accepted_at("/hook"))
    # as an older classifier left them: the readout without its stance, the story open
    db.execute("UPDATE articles SET official_stance = NULL, classifier_version = 'old' "
               "WHERE outlet = 'Kremlin'")
    db.execute("UPDATE stories SET status = 'unconfirmed', status_article_id = NULL")
    result = run_cli(["reclassify"], env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "; 1 changed" in result.stdout
    assert "story status: unconfirmed → confirmed 1" in result.stdout
    row = db.execute("SELECT s.status, a.outlet, a.official_stance FROM stories s "
                     "JOIN articles a ON a.id = s.status_article_id").fetchone()
    assert (row["status"], row["outlet"], row["official_stance"]) == \
        ("confirmed", "Kremlin", "confirms")
    assert len(http_receiver.accepted_at("/hook")) == sent  # old news: no alert
