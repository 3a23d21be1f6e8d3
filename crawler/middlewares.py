"""Scrapy downloader middlewares of our own: the private-address guard and retries
that back off instead of hammering a struggling server."""

from __future__ import annotations

import asyncio
import logging
import random

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response

from crawler.netguard import PrivateAddressRefused, check_url

log = logging.getLogger(__name__)


class PrivateAddressRefusedRequest(IgnoreRequest):
    """A request (or a redirect) to a private or loopback address was refused."""


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
