"""Which outlet published a URL: the sources file's outlets first, otherwise the
registered domain, so www., m., amp. and an outlet's several domains are one outlet."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

import tldextract

from core.urls import host_of, site_of

SAME_SITE_PREFIXES = {"www", "m", "amp", "mobile", "www2"}

# The public-suffix list bundled with tldextract: never fetched at run time.
_extract = tldextract.TLDExtract(suffix_list_urls=(), include_psl_private_domains=False)


@lru_cache(maxsize=65536)
def registered_domain(host: str) -> str:
    """example.co.uk for m.news.example.co.uk; the host itself for IPs and localhost."""
    host = host.lower().rstrip(".")
    parts = _extract(host)
    if parts.domain and parts.suffix:
        return f"{parts.domain}.{parts.suffix}"
    # No known public suffix (.test, .local, intranet names): drop mobile/AMP prefixes
    labels = host.split(".")
    while len(labels) > 2 and labels[0] in SAME_SITE_PREFIXES:
        labels = labels[1:]
    return ".".join(labels)


class OutletDirectory:
    """Maps hosts to outlet names, from the sources file's `domains` and feed URLs."""

    def __init__(self, outlets: Iterable[tuple[str, Iterable[str]]] = ()) -> None:
        self._by_domain: dict[str, str] = {}
        self._by_site: dict[str, str] = {}
        for name, domains in outlets:
            for domain in domains:
                self.add(name, domain)

    def add(self, name: str, domain_or_host: str) -> None:
        text = domain_or_host.lower().strip().rstrip(".")
        site = site_of(text) if "://" in text else text
        if not site:
            return
        self._by_site.setdefault(site, name)
        host = host_of("http://" + site)
        if not _is_address(host):
            self._by_domain.setdefault(registered_domain(host), name)

    def listed(self, url: str) -> bool:
        """Whether the URL's site or registered domain is one of the directory's."""
        if site_of(url) in self._by_site:
            return True
        host = host_of(url)
        return not _is_address(host) and registered_domain(host) in self._by_domain

    def outlet_for(self, url: str) -> str:
        """The configured outlet for the URL's site or registered domain; otherwise the
        registered domain itself (host:port for bare addresses)."""
        site = site_of(url)
        if site in self._by_site:
            return self._by_site[site]
        host = host_of(url)
        if _is_address(host):
            return site
        reg = registered_domain(host)
        return self._by_domain.get(reg, reg)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost"
    return True
