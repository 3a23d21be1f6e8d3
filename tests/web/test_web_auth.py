"""The token: with one set, every page and API request needs it (header, or the cookie
that /login sets for a browser), and it never appears in the log."""

from __future__ import annotations

import logging
import time

import httpx
import pytest
from webserver import empty_archive, running

from web.app import create_app
from web.guard import token_matches

TOKEN = "correct-horse-battery-staple-42"


@pytest.fixture(scope="module")
def base(pg_server):
    with empty_archive(pg_server) as database_url, \
            running(create_app(database_url, token=TOKEN)) as url:
        yield url


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", ["/", "/search?q=x", "/chart", "/api/stories",
                                  "/api/search", "/openapi.json", "/docs"])
def test_everything_needs_the_token(base, path):
    response = httpx.get(base + path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "/login?token=" in response.text  # tells a person what to do
    assert httpx.get(base + path, headers=bearer("wrong")).status_code == 401
    assert httpx.get(base + path, headers=bearer()).status_code == 200


def test_api_refusal_is_json(base):
    response = httpx.get(base + "/api/stories")
    assert response.json()["detail"].startswith("a token is needed")


def test_login_sets_a_cookie_for_the_browser(base):
    with httpx.Client(base_url=base) as browser:
        wrong = browser.get("/login", params={"token": "guess"})
        assert wrong.status_code == 401 and not browser.cookies
        login = browser.get("/login", params={"token": TOKEN, "next": "/search"})
        assert login.status_code == 303 and login.headers["location"] == "/search"
        cookie = login.headers["set-cookie"].lower()
        assert "backchannel_token=" in cookie and "httponly" in cookie
        assert "samesite=lax" in cookie
        assert browser.get("/").status_code == 200
        assert browser.get("/api/stories").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_login_does_not_redirect_elsewhere(base, target):
    response = httpx.get(base + "/login", params={"token": TOKEN, "next": target})
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_health_needs_no_token_and_writes_stay_refused(base):
    assert httpx.get(base + "/healthz").json() == {"status": "ok"}
    assert httpx.post(base + "/api/stories", headers=bearer()).status_code == 405


def test_openapi_declares_the_token(base):
    document = httpx.get(base + "/openapi.json", headers=bearer()).json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["paths"]["/healthz"]["get"]["security"] == []


def test_the_token_is_never_logged(base, caplog):
    caplog.set_level(logging.DEBUG)
    httpx.get(base + "/login", params={"token": TOKEN})
    httpx.get(base + "/login", params={"token": "almost-" + TOKEN})
    httpx.get(base + "/api/stories", headers=bearer())
    httpx.get(base + "/", cookies={"backchannel_token": TOKEN})
    server_side = [record.getMessage() for record in caplog.records
                   if not record.name.startswith(("httpx", "httpcore"))]  # not the client's
    assert "GET /login?token=*** 303" in "\n".join(server_side)  # the request is logged…
    assert not [line for line in server_side if TOKEN in line]  # …its secret is not


def test_a_percent_encoded_key_logs_in_and_is_not_logged(base, caplog):
    """`%74oken` is `token` to the server: it logs in, and the log hides it as well."""
    caplog.set_level(logging.DEBUG)
    with httpx.Client(base_url=base) as browser:
        login = browser.get(f"/login?%74oken={TOKEN}&next=/chart")
        assert login.status_code == 303 and login.headers["location"] == "/chart"
        assert browser.get("/chart").status_code == 200  # the cookie works
    httpx.get(f"{base}/login?t%6Fken=wrong-{TOKEN}")
    httpx.get(f"{base}/search?next=%2Flogin%3Ftoken%3D{TOKEN}", headers=bearer())
    server_side = "\n".join(record.getMessage() for record in caplog.records
                            if not record.name.startswith(("httpx", "httpcore")))
    assert "GET /login?token=***&next=%2Fchart 303" in server_side
    assert TOKEN not in server_side


@pytest.fixture
def guarded(pg_server):
    """Two wrong tokens free, then a wait of 1 s, doubling."""
    with empty_archive(pg_server) as database_url, \
            running(create_app(database_url, token=TOKEN, free_guesses=2,
                               guess_delay_seconds=1)) as url:
        yield url


def test_wrong_guesses_are_slowed_per_client(guarded):
    other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    for guess in ("aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "cccccccccccccccc"):
        assert httpx.get(guarded + "/api/stories", headers=bearer(guess)).status_code == 401
    # now even the right token waits: it is not compared at all
    held = httpx.get(guarded + "/api/stories", headers=bearer())
    assert held.status_code == 429 and held.headers["retry-after"] == "1"
    assert "too many wrong tokens" in held.json()["detail"]
    assert httpx.get(guarded + "/login", params={"token": TOKEN}).status_code == 429
    assert httpx.get(guarded + "/", headers=bearer()).status_code == 429
    # another client is not held back by this one's guesses
    assert other.get(guarded + "/api/stories", headers=bearer()).status_code == 200
    time.sleep(int(held.headers["retry-after"]) + 0.1)
    assert httpx.get(guarded + "/api/stories", headers=bearer()).status_code == 200
    # a right token cleared the count: the next wrong one is a plain 401 again
    assert httpx.get(guarded + "/api/stories", headers=bearer("x")).status_code == 401
    other.close()


def test_tokens_are_compared_whatever_their_length():
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches(TOKEN[:-1], TOKEN) and not token_matches(TOKEN + "x", TOKEN)
    assert not token_matches("", TOKEN) and not token_matches(None, TOKEN)
