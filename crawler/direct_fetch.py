"""One page fetched outside the crawl (`backchannel extract URL`): the host is resolved
once and the connection goes to the address that was checked, so a name that answers a
public address to the check and a private one to the connect (DNS rebinding) cannot
reach an internal service; and the whole fetch has a deadline, not only each read, so a
server trickling a byte every few seconds cannot hold the command."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from urllib.parse import urljoin, urlsplit

from crawler.netguard import PrivateAddressRefused, is_loopback_name, is_public_ip, resolve

MAX_REDIRECTS = 5
CHUNK = 64 * 1024


class FetchError(Exception):
    """The page could not be fetched; the message says why."""


def addresses_for(host: str, port: int, allow_private: bool) -> list[str]:
    """The addresses to connect to, resolved once; non-public ones refused unless
    allowed (localhost names always count as loopback)."""
    if not allow_private and is_loopback_name(host):
        raise PrivateAddressRefused(
            f"{host} names a private or loopback address (localhost is loopback); "
            "set allow_private_addresses = true to fetch it")
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise FetchError(f"cannot resolve {host}: {exc}") from None
    if not allow_private:
        for address in addresses:
            if not is_public_ip(address):
                raise PrivateAddressRefused(
                    f"{host} is a private or loopback address ({address}); "
                    "set allow_private_addresses = true to fetch it")
    return addresses


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the checked address; the Host header still names the host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.raw = self.sock  # kept: http.client drops self.sock once the answer is read

    def cut(self) -> None:
        """End the connection at the deadline, whatever read is waiting on it."""
        raw = getattr(self, "raw", None)
        if raw is not None:
            try:
                raw.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _PinnedHTTPS(_PinnedHTTP):
    """TLS to the checked address, the certificate verified against the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float,
                 context: ssl.SSLContext) -> None:
        super().__init__(host, port, address, timeout)
        self.context = context

    def connect(self) -> None:
        super().connect()
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.host)


def fetch_page(url: str, *, allow_private: bool, user_agent: str, accept: str,
               read_timeout: float, deadline: float, max_bytes: int,
               context: ssl.SSLContext | None = None) -> tuple[bytes, str, str | None]:
    """GET the page, following up to five redirects (each hop checked the same way).
    Returns body, final URL, Content-Type. `deadline` bounds the whole fetch in seconds."""
    ends = time.monotonic() + deadline
    context = context or ssl.create_default_context()
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"cannot fetch {url!r}: not an http(s) URL")
        host = parts.hostname
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchError(f"cannot fetch {url!r}: bad port") from None
        address = addresses_for(host, port, allow_private)[0]
        timeout = max(0.1, min(read_timeout, ends - time.monotonic()))
        conn = (_PinnedHTTPS(host, port, address, timeout, context) if parts.scheme == "https"
                else _PinnedHTTP(host, port, address, timeout))
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        watchdog = threading.Timer(max(0.0, ends - time.monotonic()), conn.cut)
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.request("GET", path, headers={"User-Agent": user_agent, "Accept": accept})
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                url = urljoin(url, response.getheader("Location"))
                continue
            if response.status >= 400:
                raise FetchError(f"HTTP {response.status} {response.reason}")
            body = _read(response, max_bytes)
            if time.monotonic() >= ends:
                raise TimeoutError
            return body, url, response.getheader("Content-Type")
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            if time.monotonic() >= ends:
                raise FetchError(f"cannot fetch: no complete answer within {deadline:g} s") \
                    from None
            raise FetchError(f"cannot fetch: {exc}") from None
        finally:
            watchdog.cancel()
            conn.close()
    raise FetchError(f"cannot fetch: more than {MAX_REDIRECTS} redirects")


def _read(response: http.client.HTTPResponse, max_bytes: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while chunk := response.read1(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"page larger than {max_bytes // (1024 * 1024)} MB")
        parts.append(chunk)
    return b"".join(parts)
