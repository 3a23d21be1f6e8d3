"""The operator's pages and routes: alert history, sources' health, and the readout
that confirmed a story, over HTTP and in a browser, against an archive that two real
crawls filled (tests/web/operated.py): three alerts on three channels, one webhook
delivery retried, one Slack delivery refused, one feed failing on every poll."""

from __future__ import annotations

import re

import httpx
import pytest
from operated import FAILING, drop, operate
from webserver import chromium, one, running, screenshot

from web.app import create_app
from web.views import without_credentials


@pytest.fixture(scope="module")
def operated(pg_server, tmp_path_factory):
    archive = operate(pg_server, tmp_path_factory.mktemp("operated"))
    yield archive
    drop(pg_server, archive.database_url)


@pytest.fixture(scope="module")
def site(operated):
    with running(create_app(operated.database_url)) as url, \
            httpx.Client(base_url=url, timeout=20) as client:
        yield client


def article(operated, key: str) -> int:
    return one(operated.database_url, "SELECT id FROM articles WHERE url = %s",
               operated.urls[key])["id"]


def by_channel(alert: dict) -> dict[str, dict]:
    return {d["channel"]: d for d in alert["deliveries"]}


def test_alert_history_tells_each_delivery(operated, site):
    alerts = site.get("/api/alerts").json()["results"]
    assert len(alerts) == 3 and alerts[0]["kind"] == "status_change"  # newest first
    assert alerts[0]["outlet"] == "Kremlin" and alerts[0]["story_status"] == "confirmed"
    assert {a["outlet"] for a in alerts[1:]} == {"Harbour Post", "Valley Times"}
    first = by_channel(alerts[-1])  # the oldest: the receivers' scripted answers hit it
    assert first["email"]["status"] == "delivered" and first["email"]["attempts"] == 1
    assert first["webhook"]["status"] == "delivered" and first["webhook"]["attempts"] == 2
    assert first["slack"]["status"] == "failed" and first["slack"]["attempts"] == 1
    assert "HTTP 403" in first["slack"]["last_error"]
    assert all(d["status"] == "delivered" for a in alerts[:-1] for d in a["deliveries"])
    assert operated.mails == 3  # what the SMTP server got is what the history says


def test_alert_history_filters_and_pages(site):
    failed = site.get("/api/alerts", params={"status": "failed"}).json()["results"]
    assert len(failed) == 1 and failed[0]["kind"] == "first_report"
    assert site.get("/api/alerts", params={"status": "failed", "channel": "email"}
                    ).json()["results"] == []
    assert site.get("/api/alerts", params={"status": "pending"}).json()["results"] == []
    first = site.get("/api/alerts", params={"limit": 2}).json()
    second = site.get("/api/alerts", params={"limit": 2, "page": 2}).json()
    assert first["next_page"] == 2 and second["next_page"] is None
    assert len({a["id"] for a in first["results"] + second["results"]}) == 3
    bad = site.get("/api/alerts", params={"status": "lost"})
    assert bad.status_code == 422 and bad.json()["parameter"] == "status"


def test_alerts_page(site):
    page = site.get("/alerts").text
    assert "3 alerts · email: 3 delivered · slack: 2 delivered" in page
    assert '<span class="failed">1 failed</span>' in page
    assert "after 1 retry" in page  # the webhook's second attempt
    assert "after 1 attempt" in page and "HTTP 403" in page and "invalid_token" in page
    assert "backchannel alerts retry" in page  # what to do about it
    failed = site.get("/alerts", params={"status": "failed"}).text
    assert failed.count('<tr id="alert-') == 1
    bad = site.get("/alerts", params={"status": "lost"})
    assert bad.status_code == 422 and "status: &#39;lost&#39; is not pending" in bad.text


def test_sources_health(operated, site):
    body = site.get("/api/sources").json()
    assert body["totals"] == {"ok": 3, "failing": 1, "never polled": 0}
    broken = body["results"][0]  # failing sources first
    assert broken["outlet"] == FAILING and broken["state"] == "failing"
    assert broken["consecutive_failures"] == 2 and broken["last_status"] == 503
    assert "HTTP 503" in broken["last_error"] and broken["last_success_at"] is None
    assert broken["next_poll_at"] > broken["last_polled_at"]
    healthy = body["results"][1:]
    assert {s["outlet"] for s in healthy} == {"Harbour Post", "Valley Times", "Kremlin"}
    assert all(s["state"] == "ok" and s["last_success_at"] for s in healthy)
    failing = site.get("/api/sources", params={"state": "failing"}).json()["results"]
    assert [s["url"] for s in failing] == [operated.feed_urls[FAILING]]


def test_sources_page(site):
    page = site.get("/sources").text
    assert "3 ok · <span class=\"failed\">1 failing</span> · 0 never polled" in page
    row = next(r for r in page.split('<tr class="source') if FAILING in r)
    assert "failing ×2" in row and "HTTP 503" in row
    assert re.search(r"<time[^>]*>–</time>", row)  # never a success
    assert site.get("/sources", params={"state": "gone"}).status_code == 422


def test_credentials_in_a_source_url_are_not_shown():
    assert without_credentials("https://desk:s3cret@feeds.example/rss") == \
        "https://***@feeds.example/rss"
    assert without_credentials("https://feeds.example/rss?a=b@c") == \
        "https://feeds.example/rss?a=b@c"


def test_the_readout_is_linked_from_the_story_and_the_claims(operated, site):
    readout, claim = article(operated, "readout"), article(operated, "claim-1")
    story = site.get("/api/stories").json()["results"][0]
    detail = site.get(f"/api/stories/{story['id']}").json()
    assert detail["status"] == "confirmed"
    evidence = detail["status_evidence"]
    assert evidence["id"] == readout and evidence["official"] == "ru"
    assert evidence["decides"] == "confirmed"
    page = site.get(f"/stories/{story['id']}").text
    assert f'<a class="evidence-link" href="/articles/{readout}">Kremlin: ' in page
    assert "confirmed by the Kremlin's own word" in page
    # a claim's page links to the readout; the readout's page to the claim it confirms
    claim_page = site.get(f"/articles/{claim}").text
    assert f'<a class="evidence-link" href="/articles/{readout}">' in claim_page
    readout_page = site.get(f"/articles/{readout}").text
    assert "This article confirms" in readout_page
    assert f'<a class="claim-link" href="/articles/{claim}">Harbour Post: ' in readout_page
    as_json = site.get(f"/api/articles/{readout}").json()
    assert as_json["claim"]["id"] == claim and as_json["status_evidence"]["id"] == readout
    assert site.get(f"/api/articles/{claim}").json()["claim"] is None


def test_story_list_filters_by_status_denied_included(site):
    assert site.get("/api/stories", params={"status": "confirmed"}).json()["results"]
    assert site.get("/api/stories", params={"status": "denied"}).json()["results"] == []
    assert "No stories match these filters" in site.get("/", params={"status": "denied"}).text


def test_in_a_browser(operated, site):
    base = str(site.base_url).rstrip("/")
    with chromium() as browser:
        from playwright.sync_api import expect

        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/")
        page.get_by_role("link", name="Alerts", exact=True).click()
        expect(page.locator("h1")).to_have_text("Alerts")
        expect(page.locator("li.delivery.failed .why")).to_contain_text("HTTP 403")
        screenshot(page, "web-alerts.png")
        page.select_option("select[name=status]", "failed")
        page.get_by_role("button", name="Show").click()
        expect(page.locator("table.alerts tbody tr")).to_have_count(1)

        page.get_by_role("link", name="Sources", exact=True).click()
        expect(page.locator("tr.source.failing")).to_have_count(1)
        expect(page.locator("tr.source.failing")).to_contain_text(FAILING)
        screenshot(page, "web-sources.png")

        page.goto(f"{base}/articles/{article(operated, 'claim-1')}")
        page.locator("a.evidence-link").click()
        expect(page.locator("h1")).to_have_text("Telephone conversation with Donald Trump")
        expect(page.locator("p.evidence")).to_contain_text("This article confirms")
        screenshot(page, "web-readout.png")
        page.locator("a.claim-link").click()
        expect(page).to_have_url(f"{base}/articles/{article(operated, 'claim-1')}")
        page.close()
