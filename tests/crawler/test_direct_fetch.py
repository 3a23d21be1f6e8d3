"""A page fetched outside the crawl (`backchannel extract URL`): one resolution, the
connection pinned to the address that was checked, and a deadline for the whole fetch."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crawler.direct_fetch import FetchError, fetch_page
from crawler.netguard import PrivateAddressRefused

PAGE = b"<html><head><title>Pinned</title></head><body><p>The page.</p></body></html>"


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def _serve(address: str, handler: type[BaseHTTPRequestHandler]) -> Iterator[_Server]:
    server = _Server((address, 0), handler)
    server.hits = 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args) -> None:
        pass


class _Trickle(_Page):
    """Answers at once, then sends one byte every 0.2 s, for ever."""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        try:
            while True:
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass


@pytest.fixture
def first():
    yield from _serve("127.0.0.2", _Page)


def fetch(url: str, **options):
    values = {"allow_private": True, "user_agent": "test", "accept": "text/html",
              "read_timeout": 5.0, "deadline": 5.0, "max_bytes": 1 << 20} | options
    return fetch_page(url, **values)


def test_the_connection_goes_to_the_address_that_was_checked(first, monkeypatch):
    """A name that answers one address and then another (DNS rebinding) is resolved
    once: the page comes from the first answer and the second host sees nothing."""
    real = socket.getaddrinfo
    answers = iter([first.server_address[0]])
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        if host == "news.rebind.test":
            lookups.append(host)
            address = next(answers, "127.0.0.3")
            return real(address, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    port = first.server_address[1]
    # the second host listens on the same port number, so a second lookup would reach it
    with _Server(("127.0.0.3", port), _Page) as same_port:
        same_port.hits = 0
        threading.Thread(target=same_port.serve_forever, daemon=True).start()
        body, url, content_type = fetch(f"http://news.rebind.test:{port}/page")
        same_port.shutdown()
        assert (body, content_type) == (PAGE, "text/html")
        assert first.hits == 1 and same_port.hits == 0
        assert len(lookups) == 1


def test_a_private_address_is_refused_before_any_connection(first):
    host, port = first.server_address
    with pytest.raises(PrivateAddressRefused, match="private or loopback"):
        fetch(f"http://{host}:{port}/page", allow_private=False)
    assert first.hits == 0


def test_a_trickling_server_cannot_hold_the_fetch_past_its_deadline():
    for server in _serve("127.0.0.4", _Trickle):
        host, port = server.server_address
        started = time.monotonic()
        with pytest.raises(FetchError, match="within 1 s"):
            fetch(f"http://{host}:{port}/slow", deadline=1.0, read_timeout=30.0)
        assert time.monotonic() - started < 20, "the deadline ended the fetch"
