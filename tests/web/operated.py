"""An archive as an operator sees it after two real crawls: alerts sent to a real SMTP
server and to an HTTP receiver standing in for Slack and a webhook (one delivery
retried, one refused), a feed that keeps failing, and an official readout that
confirms the story the other outlets reported unconfirmed."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from conftest import run_cli
from newsroom import Newsroom, Route, article_html, rss_feed
from psycopg.conninfo import make_conninfo
from receivers import HttpReceiver, Reply, SmtpReceiver

DAY = datetime.fromisoformat("2025-05-12T07:00:00+00:00")

# Invented reports of one claimed call, and the Kremlin's own readout of it.
CLAIMS = [
    ("Harbour Post", "claim-1", "Putin and Trump said to have talked Arctic shipping by phone", [
        "Vladimir Putin and Donald Trump talked about shipping lanes in the Arctic in a phone "
        "call on Sunday evening, according to three people briefed on the conversation.",
        "Neither the Kremlin nor the White House has confirmed the call, which the people "
        "said also covered fishing quotas and an exchange of detained sailors.",
    ]),
    ("Valley Times", "claim-2", "Kremlin will not confirm reported Arctic call with Trump", [
        "The Kremlin would not confirm reports that Vladimir Putin and Donald Trump spoke by "
        "telephone on Sunday about Arctic shipping lanes and detained sailors.",
        "Spokesman Dmitry Peskov said he had nothing to announce about such a call, and the "
        "White House declined to answer questions about the Arctic talks.",
    ]),
]
READOUT = ("Kremlin", "readout", "Telephone conversation with Donald Trump", [
    "Vladimir Putin had a telephone conversation with President of the United States Donald "
    "Trump on Sunday. The presidents discussed shipping lanes in the Arctic, fishing quotas "
    "and the exchange of detained sailors.",
    "The conversation was detailed and constructive, and the presidents agreed that their "
    "advisers would stay in contact on Arctic shipping.",
])
FAILING = "Broken Wire"  # its feed answers 503 on every poll


@dataclass
class OperatedArchive:
    database_url: str
    urls: dict[str, str]  # key → article URL
    feed_urls: dict[str, str]  # outlet → feed URL
    mails: int  # messages the SMTP server accepted


def publish(site, outlet: str, key: str, title: str, paragraphs: list[str],
            when: datetime) -> str:
    path = f"/news/{key}.html"
    url = site.url(path)
    site.routes[path] = Route(article_html(title, paragraphs, when, "Staff", outlet, url))
    site.items = [*getattr(site, "items", []),
                  {"title": title, "link": url, "guid": key, "published": when}]
    site.routes["/rss.xml"] = Route(rss_feed(outlet, site.base, site.items),
                                    content_type="application/rss+xml", conditional=True)
    return url


def operate(pg_server: str, folder: Path) -> OperatedArchive:
    """Two crawls into a fresh database: the claims (alerts on three channels), then the
    readout (a status change). The database is the caller's to drop."""
    name = f"t_ops_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    database_url = make_conninfo(pg_server, dbname=name)
    room, smtp, http = Newsroom(), SmtpReceiver(), HttpReceiver()
    try:
        urls = {key: publish(room.site(outlet), outlet, key, title, text,
                             DAY + timedelta(hours=n))
                for n, (outlet, key, title, text) in enumerate(CLAIMS)}
        kremlin = room.site(READOUT[0])
        kremlin.routes["/rss.xml"] = Route(rss_feed("Kremlin", kremlin.base, []),
                                           content_type="application/rss+xml")
        broken = room.site(FAILING)
        broken.routes["/rss.xml"] = Route(b"down for maintenance", status=503,
                                          content_type="text/plain")
        sources = folder / "sources.toml"
        text = room.sources_toml({outlet: ["/rss.xml"] for outlet in room.sites})
        sources.write_text(text.replace('name = "Kremlin"', 'name = "Kremlin"\nofficial = "ru"'),
                           encoding="utf-8")
        http.script["/hook"] = [Reply(500, "try later")]  # the first alert is retried
        http.script["/slack"] = [Reply(403, "invalid_token")]  # refused for good
        env = {k: v for k, v in os.environ.items() if not k.startswith("BACKCHANNEL_")}
        env.update(BACKCHANNEL_DATABASE_URL=database_url, BACKCHANNEL_HOME=str(folder / "home"),
                   BACKCHANNEL_DOWNLOAD_DELAY="0", BACKCHANNEL_DOWNLOAD_TIMEOUT="15",
                   BACKCHANNEL_RETRY_TIMES="0", PYTHONUNBUFFERED="1",
                   BACKCHANNEL_SMTP_URL=smtp.url(), BACKCHANNEL_EMAIL_TO="desk@newsroom.test",
                   BACKCHANNEL_SLACK_WEBHOOK_URL=http.url("/slack"),
                   BACKCHANNEL_WEBHOOK_URL=http.url("/hook"),
                   BACKCHANNEL_ALERT_BACKOFF_SECONDS="0.2",
                   BACKCHANNEL_ALERT_WAIT_SECONDS="10")
        for _ in range(2):
            result = run_cli(["crawl", "--all", "--sources", str(sources)], env)
            assert f"FAILED {FAILING}" in result.stderr, result.stderr[-3000:]
            assert "Traceback" not in result.stderr, result.stderr[-3000:]
            if "readout" not in urls:
                urls["readout"] = publish(kremlin, *READOUT, DAY + timedelta(hours=20))
        feeds = {outlet: site.url("/rss.xml") for outlet, site in room.sites.items()}
        return OperatedArchive(database_url, urls, feeds, len(smtp.mails))
    finally:
        room.close()
        smtp.close()
        http.close()


def drop(pg_server: str, database_url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
