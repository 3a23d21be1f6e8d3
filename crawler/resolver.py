"""A DNS resolver that will not hand Twisted a private address. The private-address
guard checks a URL before the request is sent, but the connection resolves the name
again; a hostile DNS server could answer a public address to the first lookup and
127.0.0.1 or 169.254.169.254 to the second (DNS rebinding). Refusing at resolution
time closes that gap: the address checked is the address connected to."""

from __future__ import annotations

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

from crawler.netguard import is_public_ip


class PublicOnlyResolver(CachingThreadedResolver):
    allow_private = False

    @classmethod
    def from_crawler(cls, crawler, reactor):
        resolver = super().from_crawler(crawler, reactor)
        resolver.allow_private = crawler.settings.getbool("BACKCHANNEL_ALLOW_PRIVATE_ADDRESSES")
        return resolver

    def getHostByName(self, name: str, timeout=()):  # noqa: N802 (Twisted's name)
        deferred = super().getHostByName(name, timeout)
        if not self.allow_private:
            deferred.addCallback(self._refuse_private, name)
        return deferred

    @staticmethod
    def _refuse_private(address: str, name: str) -> str:
        if not is_public_ip(address):
            raise DNSLookupError(f"{name} resolves to a private or loopback address "
                                 f"({address}); refused")
        return address


def install(reactor, allow_private: bool, timeout: float = 15.0) -> PublicOnlyResolver:
    """For a process that runs its own reactor (the daemon)."""
    resolver = PublicOnlyResolver(reactor, cache_size=10_000, timeout=timeout)
    resolver.allow_private = allow_private
    resolver.install_on_reactor()
    return resolver
