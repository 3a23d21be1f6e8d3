"""Scrapy downloader middlewares of our own: the private-address guard, download
slots per port on private addresses, retries that back off instead of hammering a
struggling server, a clear, final reason for a download abandoned at the size cap, and
robots.txt applied to every request."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    IgnoreRequest,
    NotConfigured,
)
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from crawler.netguard import PrivateAddressRefused, check_url, is_loopback_name, is_public_ip

log = logging.getLogger(__name__)


class PrivateAddressRefusedRequest(IgnoreRequest):
    """A request (or a redirect) to a private or loopback address was refused."""


class RobotsTxtEveryRequest(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with every request that waited for a host's
    robots.txt judged by it. Under the asyncio reactor Scrapy hands the parser to the
    first waiter only (awaiting the shared Deferred leaves None for the others), and
    the others went ahead as if the host had no robots.txt: two sources on one host
    polled at the start of a pass were enough."""

    async def robot_parser(self, request: Request):
        netloc = urlparse_cached(request).netloc
        known = _ROBOTS_SEEN.get(netloc)
        if known is not None and known[0] > time.monotonic():
            return known[1]
        parser = await super().robot_parser(request)
        if parser is None:  # maybe robots.txt failed (then None is Scrapy's rule)…
            stored = self._parsers.get(netloc)
            if not isinstance(stored, Deferred):
                parser = stored  # …or maybe another waiter was handed its parser
        if parser is not None:
            _remember_robots(netloc, parser)
        return parser


# robots.txt as read, per host, for the life of the process: Scrapy's middleware lives
# one pass, so the daemon asked every host for robots.txt before each poll. RFC 9309
# lets a crawler keep it up to 24 hours; a failed fetch is not kept.
ROBOTS_KEEP_SECONDS = 24 * 3600
ROBOTS_KEPT_HOSTS = 20_000
_ROBOTS_SEEN: dict[str, tuple[float, object]] = {}


def _remember_robots(netloc: str, parser: object) -> None:
    if len(_ROBOTS_SEEN) >= ROBOTS_KEPT_HOSTS:
        del _ROBOTS_SEEN[next(iter(_ROBOTS_SEEN))]  # the oldest
    _ROBOTS_SEEN[netloc] = (time.monotonic() + ROBOTS_KEEP_SECONDS, parser)


class PortSlots:
    """Politeness per server: Scrapy keys its download slots (delay, concurrency) on
    the host name alone, so outlets served on one loopback or private address under
    different ports, as a local replay or a test newsroom serves them, waited in one
    line. For such addresses the slot is host:port; a public host keeps one slot for
    all its ports."""

    def process_request(self, request: Request, spider=None) -> None:
        if "download_slot" in request.meta:
            return
        parts = urlparse_cached(request)
        host = parts.hostname or ""
        if parts.port is None or not _is_private_host(host):
            return
        request.meta["download_slot"] = f"{host}:{parts.port}"


def _is_private_host(host: str) -> bool:
    if is_loopback_name(host):
        return True
    try:
        return not is_public_ip(host)
    except ValueError:  # a name, not an address
        return False


class PrivateAddressGuard:
    """Refuses requests to private, loopback and link-local addresses. Redirects pass
    through here again, so a public URL redirecting to 169.254.169.254 is refused too."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    @classmethod
    def from_crawler(cls, crawler):
        allow = crawler.settings.getbool("BACKCHANNEL_ALLOW_PRIVATE_ADDRESSES")
        if allow:
            raise NotConfigured("private addresses allowed")
        return cls(allow)

    async def process_request(self, request: Request) -> None:
        try:
            await asyncio.to_thread(check_url, request.url, self.allow_private)
        except PrivateAddressRefused as exc:
            log.warning("refused %s: %s", request.url, exc, extra={"url": request.url})
            raise PrivateAddressRefusedRequest(str(exc)) from None


class ResolverRefusalMiddleware:
    """When the connection's own lookup gives a private address (DNS rebinding: the
    guard above was told a public one), crawler.resolver refuses it, but Twisted's
    endpoint reports only "no results for hostname lookup", which reads as a passing
    DNS failure: retried, and the page fetched again every pass. This looks at the
    address the resolver got (Scrapy's DNS cache, else a new lookup) and, when it is
    private, fails the request for good with the reason."""

    @classmethod
    def from_crawler(cls, crawler):
        if crawler.settings.getbool("BACKCHANNEL_ALLOW_PRIVATE_ADDRESSES"):
            raise NotConfigured("private addresses allowed")
        return cls()

    async def process_exception(self, request: Request, exception: Exception) -> None:
        if not isinstance(exception, (CannotResolveHostError, DNSLookupError)):
            return None
        host = urlsplit(request.url).hostname or ""
        address = _cached_address(host) or await asyncio.to_thread(_lookup, host)
        try:
            private = bool(address) and not is_public_ip(address)
        except ValueError:
            private = False
        if private:
            reason = f"{host} resolves to a private or loopback address ({address}); refused"
            log.warning("refused %s: %s", request.url, reason, extra={"url": request.url})
            raise PrivateAddressRefusedRequest(reason)
        return None


def _cached_address(host: str) -> str | None:
    from scrapy.resolver import dnscache

    address = dnscache.get(host)
    return address if isinstance(address, str) else None


def _lookup(host: str) -> str | None:
    """The lookup Twisted's threaded resolver makes."""
    try:
        return socket.gethostbyname(host)
    except (OSError, UnicodeError, ValueError):
        return None


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, with exponential backoff and jitter before each new attempt,
    and a server's Retry-After honoured (up to a cap)."""

    base_delay = 1.0
    max_delay = 30.0

    def _delay(self, request: Request, response: Response | None = None) -> float:
        retries = request.meta.get("retry_times", 1)
        delay = min(self.max_delay, self.base_delay * 2 ** (retries - 1))
        if response is not None:
            after = response.headers.get(b"Retry-After")
            if after and after.strip().isdigit():
                delay = min(self.max_delay, max(delay, float(after.strip())))
        return delay * random.uniform(0.8, 1.2)

    async def process_response(self, request: Request, response: Response):
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await asyncio.sleep(self._delay(result, response))
        return result

    async def process_exception(self, request: Request, exception: Exception):
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await asyncio.sleep(self._delay(result))
        return result


class SizeCapMiddleware:
    """A download Scrapy abandons at DOWNLOAD_MAXSIZE fails with DownloadCancelledError,
    which says nothing when the body had no Content-Length (the size only showed while
    streaming) and reads as a passing failure, so the page's feed would keep its old
    validators and the page be fetched again every pass, forever. This turns it into an
    IgnoreRequest (final) that says why. Bytes are counted per request from Scrapy's
    bytes_received signal, so only a cancellation past the cap is turned."""

    COUNTER = "backchannel_bytes_received"

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        if not middleware.maxsize:
            raise NotConfigured("no size cap")
        crawler.signals.connect(middleware.bytes_received, signal=signals.bytes_received)
        return middleware

    def bytes_received(self, data: bytes, request: Request, spider=None) -> None:
        request.meta[self.COUNTER] = request.meta.get(self.COUNTER, 0) + len(data)

    def process_request(self, request: Request) -> None:
        request.meta[self.COUNTER] = 0  # a redirect or retry copies the meta: start over

    def process_exception(self, request: Request, exception: Exception) -> None:
        if not isinstance(exception, DownloadCancelledError):
            return None
        cap = request.meta.get("download_maxsize", self.maxsize)
        received = request.meta.get(self.COUNTER, 0)
        if "max size" in str(exception):  # refused on its Content-Length
            raise IgnoreRequest(f"larger than max_page_bytes ({cap} bytes): {exception}")
        if cap and received > cap:
            raise IgnoreRequest(f"larger than max_page_bytes ({cap} bytes): abandoned after "
                                f"{received} bytes")
        return None
