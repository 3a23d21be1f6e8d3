"""An outlet's own feed, found by autodiscovery: the `<link rel="alternate"
type="application/rss+xml">` (or Atom) on its home page, checked to be a feed."""

from __future__ import annotations

from urllib.parse import urljoin

import lxml.html

from core.urls import BadURL, normalize_url
from crawler.direct_fetch import FetchError, fetch_page
from crawler.feeds import FeedError, parse_feed
from crawler.netguard import PrivateAddressRefused

FEED_TYPES = ("application/rss+xml", "application/atom+xml")
MAX_BYTES = 5 * 1024 * 1024


class NoFeed(ValueError):
    """No usable feed was found; the message says where it was looked for and why."""


def feed_links(page: bytes, base: str) -> list[str]:
    """The feeds a page announces, in its order."""
    try:
        tree = lxml.html.fromstring(page)
    except (ValueError, lxml.etree.ParserError):
        return []
    found = []
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES and href:
            try:
                found.append(normalize_url(urljoin(base, href)))
            except BadURL:
                continue
    return found


def home_pages(domain: str) -> list[str]:
    """Where an outlet keyed by `domain` (a registered domain, or address:port) has its
    home page: https first for names, http for bare addresses."""
    host = domain.strip().rstrip("/")
    if host.replace(".", "").replace(":", "").isdigit():
        return [f"http://{host}/"]
    return [f"https://{host}/", f"https://www.{host}/", f"http://{host}/"]


def fetch(url: str, user_agent: str, timeout: float, allow_private: bool) -> tuple[str, bytes]:
    """The page and its final URL; every redirect hop checked before it is followed."""
    body, final, _ = fetch_page(url, allow_private=allow_private, user_agent=user_agent,
                                accept="text/html,application/xhtml+xml,*/*;q=0.8",
                                read_timeout=timeout, deadline=2 * timeout,
                                max_bytes=MAX_BYTES)
    return final, body


def discover_feed(domain: str, user_agent: str, timeout: float, allow_private: bool) -> str:
    """The first announced feed of the outlet's home page that parses as a feed."""
    problems = []
    for home in home_pages(domain):
        try:
            final, page = fetch(home, user_agent, timeout, allow_private)
        except PrivateAddressRefused as exc:
            raise NoFeed(f"{home}: {exc}") from None
        except (FetchError, OSError, ValueError) as exc:
            problems.append(f"{home}: {getattr(exc, 'reason', exc)}")
            continue
        links = feed_links(page, final)
        if not links:
            problems.append(f"{final}: no <link rel=\"alternate\" type=\"application/rss+xml\">")
            continue
        for link in links:
            try:
                _, body = fetch(link, user_agent, timeout, allow_private)
                if parse_feed(body, link).entries is not None:
                    return link
            except (FetchError, OSError, ValueError, FeedError, PrivateAddressRefused) as exc:
                problems.append(f"{link}: {getattr(exc, 'reason', exc)}")
    raise NoFeed("; ".join(problems) or f"{domain}: no home page found")
