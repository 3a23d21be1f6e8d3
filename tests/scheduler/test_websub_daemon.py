"""WebSub in `backchannel run`: a daemon child process, outlets in the test newsroom
whose feeds name a hub stand-in (tests/websub_hub.py), and a real SMTP server. Pushed
items are stored and alerted without a poll; unsigned and forged pushes are ignored;
leases are renewed; when the hub refuses or disappears, polling takes over."""

from __future__ import annotations

import html
import urllib.parse
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from conftest import run_cli
from daemons import DaemonProcess
from newsroom import CALL_REPORT, Newsroom, Route, article_html, report_paragraphs, wait_until
from websub_hub import Hub, get

INTERVAL = "0.02"  # minutes: 1.2 s, so an unpushed feed is polled all the time
PUBLISHED = datetime(2025, 5, 6, 7, 0, tzinfo=UTC)


@pytest.fixture
def newsroom():
    room = Newsroom()
    yield room
    room.close()


@pytest.fixture
def start_daemon(cli_env, smtp):
    started: list[DaemonProcess] = []
    env = {**cli_env, "BACKCHANNEL_TICK_SECONDS": "0.2",
           "BACKCHANNEL_ADAPTIVE_INTERVALS": "false", "BACKCHANNEL_SMTP_URL": smtp.url(),
           "BACKCHANNEL_EMAIL_TO": "desk@newsroom.test",
           "BACKCHANNEL_ALERT_BACKOFF_SECONDS": "0.2"}

    def start(sources: Path, log: Path) -> DaemonProcess:
        started.append(DaemonProcess(env, sources, log, websub=True))
        return started[-1]

    yield start
    for daemon in started:
        daemon.kill()


def hub_feed(title: str, site_base: str, hub: str | None, items: list[tuple[str, str]],
             self_url: str | None = None) -> bytes:
    """An RSS feed naming its hub and itself with atom:link, as WordPress writes them."""
    links = "".join(f'<atom:link rel="{rel}" href="{html.escape(url)}"/>'
                    for rel, url in (("hub", hub), ("self", self_url)) if url)
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(u)}</link><guid>{u}</guid>"
        f"<pubDate>{format_datetime(PUBLISHED)}</pubDate></item>" for t, u in items)
    return (f'<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/'
            f'Atom"><channel><title>{html.escape(title)}</title><link>{site_base}/</link>'
            f"{links}{entries}</channel></rss>").encode()


def page(room: Newsroom, outlet: str, path: str, title: str, paragraphs: list[str]) -> str:
    site = room.site(outlet)
    site.routes[path] = Route(article_html(title, paragraphs, PUBLISHED, "Staff", outlet,
                                           site.url(path)))
    return site.url(path)


def sources_file(tmp_path: Path, room: Newsroom, feeds: dict[str, str]) -> Path:
    path = tmp_path / "sources.toml"
    text = room.sources_toml({name: [p] for name, p in feeds.items()})
    path.write_text(text.replace("interval_minutes = 5", f"interval_minutes = {INTERVAL}"))
    return path


def status_blocks(sources: Path, env: dict[str, str]) -> dict[str, str]:
    """`backchannel sources status`, outlet → its lines."""
    out = run_cli(["sources", "status", "--sources", str(sources)], env).stdout
    blocks: dict[str, str] = {}
    for block in ("\n" + out).split("\n")[1:]:
        if " — " in block:
            name = block.split(" — ")[0]
            blocks[name] = block
        elif block.startswith("    ") and blocks:
            blocks[name] += "\n" + block
    return blocks


def test_pushed_items_are_alerted_without_a_poll_and_forged_ones_ignored(
        newsroom, start_daemon, smtp, db, cli_env, tmp_path):
    hub = Hub()
    try:
        wire, daily = newsroom.site("Pushed Wire"), newsroom.site("Header Daily")
        refused = newsroom.site("Refused Gazette")
        wire_topic = wire.url("/feed/?self=1")  # the feed calls itself by another URL
        wire.routes["/feed/"] = Route(hub_feed("Pushed Wire", wire.base, hub.url, [],
                                               wire_topic), content_type="application/rss+xml")
        daily.routes["/rss.xml"] = Route(  # the hub in the HTTP Link header only
            hub_feed("Header Daily", daily.base, None, []), content_type="application/rss+xml",
            headers={"Link": f'<{hub.url}>; rel="hub", <{daily.url("/rss.xml")}>; rel="self"'})
        hub.refused_topics.add(refused.url("/rss.xml"))
        refused.routes["/rss.xml"] = Route(hub_feed("Refused Gazette", refused.base, hub.url,
                                                    []), content_type="application/rss+xml")
        sources = sources_file(tmp_path, newsroom, {"Pushed Wire": "/feed/",
                                                    "Header Daily": "/rss.xml",
                                                    "Refused Gazette": "/rss.xml"})
        daemon = start_daemon(sources, tmp_path / "daemon.log")
        assert wait_until(lambda: hub.verified(wire_topic) and hub.verified(
            daily.url("/rss.xml")), 30), daemon.logs()[-3000:]
        assert [(t, s, ok) for t, s, ok in hub.verifications if t == wire_topic] == [
            (wire_topic, 200, True)]  # the challenge came back
        [sub] = hub.verified(wire_topic)
        assert get(f"{sub.callback}?" + urllib.parse.urlencode({
            "hub.mode": "subscribe", "hub.topic": wire.url("/other"),
            "hub.challenge": "x"}))[0] == 404  # a topic we did not ask for
        assert get(f"{daemon.base}/websub/999999?hub.mode=subscribe&hub.challenge=x")[0] == 404
        assert wait_until(lambda: "refused the subscription" in daemon.logs(), 10)

        # the safety net: a pushed feed is polled at the widest interval, 30 min
        waits = {row["url"]: row["wait"] for row in db.execute(
            "SELECT url, next_poll_at - last_polled_at AS wait FROM sources")}
        assert waits[wire.url("/feed/")] >= timedelta(minutes=30)
        assert waits[daily.url("/rss.xml")] >= timedelta(minutes=30)
        assert waits[refused.url("/rss.xml")] < timedelta(minutes=1)
        polls_before = len(newsroom.requests("Pushed Wire", "/feed/"))

        forged = [page(newsroom, "Pushed Wire", f"/news/{name}.html", f"{name} story",
                       report_paragraphs(name)) for name in ("unsigned", "forged")]
        call = page(newsroom, "Pushed Wire", "/news/call.html",
                    "Putin and Trump said to have spoken by phone", CALL_REPORT)
        for url, signing in zip(forged, ("none", "wrong"), strict=True):
            body = hub_feed("Pushed Wire", wire.base, hub.url, [("x", url)], wire_topic)
            assert hub.publish(wire_topic, body, signing) == [202]  # acknowledged, ignored
        body = hub_feed("Pushed Wire", wire.base, hub.url, [("Call", call)], wire_topic)
        assert hub.publish(wire_topic, body, method="sha512") == [202]
        assert wait_until(lambda: len(smtp.mails) == 1, 20), daemon.logs()[-3000:]
        assert "Pushed Wire" in smtp.mails[0].subject

        second = page(newsroom, "Header Daily", "/2025/call.html",
                      "Leaders spoke by phone, officials say", CALL_REPORT)
        assert hub.publish(daily.url("/rss.xml"), hub_feed("Header Daily", daily.base, None, [
            ("Call", second)]), method="sha1") == [202]
        assert wait_until(lambda: len(smtp.mails) == 2, 20), daemon.logs()[-3000:]

        # the refusing hub's feed is polled as before: its news comes by polling
        third = page(newsroom, "Refused Gazette", "/news/call.html",
                     "Kremlin will not confirm a presidents' call", CALL_REPORT)
        refused.routes["/rss.xml"] = Route(hub_feed("Refused Gazette", refused.base, hub.url, [
            ("Call", third)]), content_type="application/rss+xml")
        assert wait_until(lambda: len(smtp.mails) == 3, 20), daemon.logs()[-3000:]

        stored = {row["url"] for row in db.execute("SELECT url FROM articles")}
        assert stored == {call, second, third}
        assert newsroom.requests("Pushed Wire", "/news/unsigned") == []
        assert newsroom.requests("Pushed Wire", "/news/forged") == []
        assert len(newsroom.requests("Pushed Wire", "/feed/")) == polls_before  # no poll
        counts = db.execute("SELECT pushes, ignored_pushes FROM websub_subscriptions w "
                            "JOIN sources s ON s.id = w.source_id WHERE s.url = %s",
                            (wire.url("/feed/"),)).fetchone()
        assert (counts["pushes"], counts["ignored_pushes"]) == (1, 2)
        assert "ignored a delivery" in daemon.logs() and sub.secret not in daemon.logs()

        blocks = status_blocks(sources, cli_env)
        assert f"pushed by {hub.url}" in blocks["Pushed Wire"]
        assert f"pushed by {hub.url}" in blocks["Header Daily"]
        assert "pushed by" not in blocks["Refused Gazette"]
        assert daemon.stop()[0] == 0
    finally:
        hub.close()


def test_leases_are_renewed_and_polling_takes_over_when_the_hub_disappears(
        newsroom, start_daemon, smtp, db, cli_env, tmp_path):
    hub = Hub(lease_seconds=4)
    site = newsroom.site("Lease Times")
    topic = site.url("/rss.xml")
    site.routes["/rss.xml"] = Route(hub_feed("Lease Times", site.base, hub.url, []),
                                    content_type="application/rss+xml")
    sources = sources_file(tmp_path, newsroom, {"Lease Times": "/rss.xml"})
    daemon = start_daemon(sources, tmp_path / "daemon.log")
    try:
        assert wait_until(lambda: hub.verified(topic), 30), daemon.logs()[-3000:]
        [first] = hub.verified(topic)
        assert wait_until(lambda: hub.verified(topic)[0].verified_at != first.verified_at,
                          15), daemon.logs()[-3000:]
        [renewed] = hub.verified(topic)
        assert not renewed.lapsed_before_renewal  # asked again before the lease ended
        assert (renewed.callback, renewed.secret) == (first.callback, first.secret)
        lease_end = db.execute("SELECT lease_expires_at FROM websub_subscriptions "
                               "WHERE state = 'active'").fetchone()["lease_expires_at"]
        assert lease_end > datetime.now(UTC)
    finally:
        hub.close()  # the hub disappears: the next renewal finds no one

    call = page(newsroom, "Lease Times", "/news/call.html",
                "Putin and Trump may have spoken again", CALL_REPORT)
    site.routes["/rss.xml"] = Route(hub_feed("Lease Times", site.base, hub.url,
                                             [("Call", call)]),
                                    content_type="application/rss+xml")
    assert wait_until(lambda: len(smtp.mails) == 1, 25), daemon.logs()[-3000:]
    assert "cannot be reached" in daemon.logs()
    state = db.execute("SELECT state FROM websub_subscriptions").fetchone()["state"]
    assert state in ("failed", "expired")  # and so no longer shown as pushed
    assert daemon.stop()[0] == 0
