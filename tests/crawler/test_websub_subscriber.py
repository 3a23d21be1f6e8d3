"""WebSub's subscriber logic (crawler/websub.py): finding a feed's hub, asking a real
hub on loopback, answering its verification, and trusting only signed deliveries."""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse

import pytest
from websub_hub import Hub as HubStandIn

from crawler.websub import (
    Hub,
    WebSubError,
    callback_base,
    discover,
    signature_problem,
    subscribe,
    verify,
)

FEED = "https://news.example.org/feed/"

RSS_WITH_HUB = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>Example</title><link>https://news.example.org/</link>
<atom:link href="https://news.example.org/feed/?format=rss&amp;x=1" rel="self"
  type="application/rss+xml"/>
<atom:link rel="hub" href="https://hub.example.net/"/>
<item><title>One</title><link>https://news.example.org/one</link>
<atom:link rel="hub" href="https://wrong.example.net/"/></item>
</channel></rss>"""

ATOM_WITH_RELATIVE_HUB = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Example</title>
<link rel='alternate' href='https://news.example.org/'/>
<link href='/hub' rel='hub'/><id>tag:example</id></feed>"""


def test_the_hub_and_self_link_are_found_in_an_rss_feed() -> None:
    assert discover(RSS_WITH_HUB, None, FEED) == Hub(
        "https://hub.example.net/", "https://news.example.org/feed/?format=rss&x=1")


def test_a_relative_hub_in_atom_and_no_self_link_topic_is_the_feed_url() -> None:
    assert discover(ATOM_WITH_RELATIVE_HUB, None, FEED) == Hub(
        "https://news.example.org/hub", FEED)


def test_the_http_link_header_comes_first() -> None:
    header = ('<https://push.example.com/hub>; rel="hub", '
              '<https://news.example.org/feed.atom>; rel="self alternate"')
    assert discover(RSS_WITH_HUB, header, FEED) == Hub(
        "https://push.example.com/hub", "https://news.example.org/feed.atom")


def test_a_json_feed_names_its_hub_in_hubs() -> None:
    body = (b'{"version": "https://jsonfeed.org/version/1.1", "title": "x", '
            b'"feed_url": "https://news.example.org/feed.json", '
            b'"hubs": [{"type": "rssCloud", "url": "https://cloud.example/"}, '
            b'{"type": "WebSub", "url": "https://hub.example.net/"}], "items": []}')
    assert discover(body, None, FEED) == Hub("https://hub.example.net/",
                                             "https://news.example.org/feed.json")


@pytest.mark.parametrize("body, header", [
    (b"<rss><channel><title>x</title><link>https://a.example/</link></channel></rss>", None),
    (b"<feed><link rel='hub' href='javascript:alert(1)'/></feed>", '<x>; rel="next"'),
    (b"{not json", None),
])
def test_a_feed_without_a_usable_hub_has_none(body: bytes, header: str | None) -> None:
    assert discover(body, header, FEED) is None


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_each_signature_method_is_checked(method: str) -> None:
    body = b"<rss>pushed</rss>"
    digest = hmac.new(b"s3cret", body, getattr(hashlib, method)).hexdigest()
    assert signature_problem("s3cret", f"{method}={digest}", body) is None
    assert signature_problem("s3cret", f"{method}={digest}", body + b" ") == \
        f"wrong {method} signature"
    assert signature_problem("other", f"{method}={digest}", body) == f"wrong {method} signature"


def test_missing_unknown_or_garbled_signatures_are_refused() -> None:
    assert signature_problem("k", None, b"x") == "no X-Hub-Signature"
    assert signature_problem("k", "md5=abc", b"x") == "unknown signature method 'md5'"
    assert signature_problem("k", "sha256=ünïcode", b"x") == "wrong sha256 signature"


def test_verification_echoes_the_challenge_for_the_topic_we_asked_for() -> None:
    ours = {"topic": FEED, "state": "requested"}
    query = {"hub.mode": "subscribe", "hub.topic": FEED, "hub.challenge": "abc123",
             "hub.lease_seconds": "86400"}
    verdict = verify(ours, query)
    assert (verdict.status, verdict.body, verdict.action, verdict.lease_seconds) == (
        200, b"abc123", "activate", 86400)
    assert verify(ours, {**query, "hub.topic": FEED + "other"}).status == 404
    assert verify(None, query).status == 404
    assert verify(ours, {**query, "hub.mode": "unsubscribe"}).status == 404  # never asked
    assert verify({**ours, "state": "failed"}, query).status == 404
    denied = verify(ours, {"hub.mode": "denied", "hub.topic": FEED, "hub.reason": "spam"})
    assert (denied.status, denied.action) == (200, "denied") and "spam" in denied.reason


def test_a_subscription_request_carries_what_the_hub_needs() -> None:
    hub = HubStandIn()
    try:
        status = subscribe(Hub(hub.url, FEED), "http://127.0.0.1:9/websub/7", "k" * 64,
                           allow_private=True, user_agent="backchannel-test")
        assert status == 202
        [form] = [{k: v for k, v in r.items() if k != "at"} for r in hub.requests]
        assert form == {"hub.mode": "subscribe", "hub.topic": FEED,
                        "hub.callback": "http://127.0.0.1:9/websub/7",
                        "hub.lease_seconds": "864000", "hub.secret": "k" * 64}
    finally:
        hub.close()


def test_a_refusing_hub_is_one_clear_error_without_the_secret() -> None:
    hub = HubStandIn(refused_topics={FEED})
    try:
        with pytest.raises(WebSubError) as raised:
            subscribe(Hub(hub.url, FEED), "http://127.0.0.1:9/websub/1", "topsecret",
                      allow_private=True, user_agent="t")
        assert str(raised.value) == f"hub {hub.url} refused the subscription to {FEED}: HTTP 503"
    finally:
        hub.close()
    with pytest.raises(WebSubError, match="cannot be reached") as gone:
        subscribe(Hub(hub.url, FEED), "http://127.0.0.1:9/websub/1", "topsecret",
                  allow_private=True, user_agent="t", timeout=3)
    assert "topsecret" not in str(gone.value)


def test_a_hub_on_a_private_address_is_refused_unless_allowed() -> None:
    with pytest.raises(WebSubError, match="allow_private_addresses"):
        subscribe(Hub("http://127.0.0.1:9/hub", FEED), "https://cb.example/websub/1", "k",
                  allow_private=False, user_agent="t")


def test_the_callback_setting_must_be_an_http_url() -> None:
    assert callback_base("https://alerts.example.org/bc/") == "https://alerts.example.org/bc"
    with pytest.raises(ValueError, match="websub_callback_url must be"):
        callback_base("alerts.example.org")
    assert urllib.parse.urlsplit(callback_base("http://10.0.0.5:9108")).port == 9108
