"""Section (listing) pages → the article links on them and the next page. Plain
functions, data in and data out; fetching is the spider's job
(crawler/spiders/sections.py) (design notes: docs/crawl.md)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from parsel import Selector
from scrapy.http import HtmlResponse
from scrapy.linkextractors import LinkExtractor

from core.urls import BadURL, host_of, normalize_url, site_of
from extract.charset import decode_html
from extract.outlets import registered_domain

DEFAULT_PAGES = 3  # listing pages read per section and pass (the first and two more)
MAX_PAGES = 20
MAX_LINKS_PER_PAGE = 200

DENIED_SEGMENTS = {
    "tag", "tags", "topic", "topics", "category", "categories", "section", "sections",
    "rubric", "rubrics", "author", "authors", "people", "person", "profile", "profiles",
    "user", "users", "contributor", "contributors", "columnist", "columnists", "page",
    "pages", "search", "login", "log-in", "logout", "signin", "sign-in", "signout",
    "signup", "sign-up", "register", "registration", "subscribe", "subscription",
    "subscriptions", "account", "my-account", "privacy", "privacy-policy",
    "privacy-notice", "cookies", "cookie-policy", "terms", "terms-of-use",
    "terms-of-service", "terms-and-conditions", "about", "about-us", "contact",
    "contact-us", "contacts", "feed", "feeds", "rss", "newsletter", "newsletters",
    "advertise", "advertising", "careers", "jobs", "help", "faq", "shop", "store", "cart",
    "donate", "wp-login.php", "wp-admin", "cdn-cgi", "share", "print", "amp-stories",
}
PAGINATION_PARAMS = {"page", "p", "paged", "pg", "pagen_1", "offset", "start", "from"}

FURNITURE_TAGS = ("nav", "aside", "form", "menu")
PAGE_FURNITURE_TAGS = ("header", "footer")  # furniture unless inside an <article>
FURNITURE_ROLES = ("navigation", "banner", "contentinfo", "complementary", "search")
FURNITURE_NAMES = ("most-read", "mostread", "most_read", "most-popular", "popular",
                   "trending", "recommend", "promo", "sponsor", "advert", "outbrain",
                   "taboola", "newsletter", "share", "social", "breadcrumb", "pagination",
                   "pager", "sidebar", "cookie")

NEXT_WORDS = {"next", "next page", "older", "older posts", "older entries",
              "older articles", "older stories", "older news", "earlier", "more news",
              "следующая", "следующая страница", "далее", "дальше", "вперёд", "вперед",
              "ранее", "раньше", "предыдущие", "наступна", "далі"}
FORWARD_ARROWS = "»›→⟩>"
BACKWARD_ARROWS = "«‹←⟨<"


class SelectorError(ValueError):
    """A `section_selector` that is not `css:…` or `xpath:…`, or does not compile."""


@dataclass
class SectionLink:
    url: str  # normalised
    text: str | None = None  # the link's text when it reads like a headline


@dataclass
class SectionPage:
    articles: list[SectionLink] = field(default_factory=list)
    next_page: str | None = None
    rejected: dict[str, str] = field(default_factory=dict)  # URL → why it is no article


def parse_selector(spec: str) -> tuple[str, str]:
    """("css" | "xpath", expression) from "css:…" / "xpath:…"; SelectorError if bad."""
    kind, _, expression = (spec or "").partition(":")
    kind, expression = kind.strip().lower(), expression.strip()
    if kind not in ("css", "xpath") or not expression:
        raise SelectorError(f'{spec!r} must be "css:SELECTOR" or "xpath:EXPRESSION"')
    probe = Selector(text="<html><body></body></html>")
    try:
        probe.css(expression) if kind == "css" else probe.xpath(expression)
    except Exception as exc:  # cssselect and lxml raise several kinds
        raise SelectorError(f"{kind} selector {expression!r} does not compile: {exc}") \
            from None
    return kind, expression


def _lower(expression: str) -> str:
    return f"translate({expression}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', " \
           f"'abcdefghijklmnopqrstuvwxyz')"


def _furniture() -> str:
    """An XPath condition, true for an <a> that sits in page furniture."""
    parts = [f"ancestor::{tag}" for tag in FURNITURE_TAGS]
    parts += [f"ancestor::{tag}[not(ancestor::article)]" for tag in PAGE_FURNITURE_TAGS]
    parts.append("ancestor::*[" + " or ".join(f"@role='{r}'" for r in FURNITURE_ROLES) + "]")
    names = f"concat(' ', {_lower('@class')}, ' ', {_lower('@id')}, ' ')"
    words = " or ".join(f"contains({names}, '{w}')" for w in FURNITURE_NAMES)
    # body, main and anything holding main are containers, whatever their classes say
    parts.append(f"ancestor-or-self::*[ancestor::body][not(self::main)][not(@role='main')]"
                 f"[not(.//main)][not(.//*[@role='main'])][{words}]")
    return " or ".join(parts)


_NOT_FURNITURE = f"[not({_furniture()})]"
MAIN_LINKS = f"(//main | //*[@role='main'])//a[@href]{_NOT_FURNITURE}"
BODY_LINKS = f"//body//a[@href]{_NOT_FURNITURE}"
HEADINGS = ("h1", "h2", "h3", "h4")
# A link inside a heading, or holding one: a teaser's headline.
_IN_HEADING = "[" + " or ".join([f"ancestor::{h}" for h in HEADINGS]
                                + [f".//{h}" for h in HEADINGS]) + "]"
HEADLINE_WORDS = 5  # a link text of this many words reads as a headline


def same_site(url: str, other: str) -> bool:
    """One site: the same registered domain (www., en., m. are one site); for bare
    addresses and localhost the same host and port."""
    host, other_host = host_of(url), host_of(other)
    if not host or not other_host:
        return False
    if _is_address(host) or _is_address(other_host):
        return site_of(url) == site_of(other)
    return registered_domain(host) == registered_domain(other_host)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host == "localhost"
    return True


def _segments(url: str) -> list[str]:
    return [s for s in urlsplit(url).path.lower().split("/") if s]


def _stem(segment: str) -> str:
    return re.sub(r"\.(s?html?|php|aspx?|jsp)$", "", segment)


def _is_year(s: str) -> bool:
    return bool(re.fullmatch(r"(19[89]\d|20\d\d)", s))


def _dated(segments: list[str]) -> bool:
    """A date in the path with something after it: /2025/03/24/slug, /2025/03/slug,
    /2025-03-24-slug, /20250324-slug, /news-2025-03-24.html."""
    for i, segment in enumerate(segments):
        if _is_year(segment) and i + 1 < len(segments) and re.fullmatch(
                r"0?[1-9]|1[0-2]", segments[i + 1]):
            rest = segments[i + 2:]
            if rest and re.fullmatch(r"0?[1-9]|[12]\d|3[01]", rest[0]):
                rest = rest[1:]
            if rest:
                return True
    last = _stem(segments[-1]) if segments else ""
    match = re.search(r"(19[89]\d|20\d\d)-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])", last)
    return bool(match) and bool(re.search(r"[a-z]", last))


def _date_archive(segments: list[str]) -> bool:
    """A path ending in a date and nothing else: /2025/03/24/, /by-date/24.03.2025,
    /archive/2025-03: a listing of the day, month or year, however its link reads."""
    for segment in reversed(segments):
        stem = _stem(segment)
        if not re.fullmatch(r"[\d.\-_]+", stem):
            return False
        if any(_is_year(part) or re.fullmatch(r"(19[89]\d|20\d\d)\d{2,4}", part)
               for part in re.split(r"[.\-_]", stem)):
            return True
    return False


def _slug(segments: list[str]) -> bool:
    """A long hyphenated slug: 4+ words, 2+ of them alphabetic, 16+ characters."""
    if not segments:
        return False
    last = _stem(segments[-1])
    words = [w for w in re.split(r"[-_+]", last) if w]
    return (len(words) >= 4 and len(last) >= 16
            and sum(1 for w in words if re.fullmatch(r"[^\W\d_]{2,}", w)) >= 2)


def _numeric_id(segments: list[str]) -> bool:
    return bool(segments) and bool(re.search(r"(?<!\d)\d{5,}(?!\d)", _stem(segments[-1])))


def article_url_problem(url: str, page_url: str, section_url: str | None = None,
                        headline: bool = False) -> str | None:
    """None when `url`, a link on the listing `page_url`, looks like an article of the
    same site; otherwise why not. A `headline` link (one wrapping a heading, or a
    sentence, in the main content) is an article whatever its URL looks like, unless it
    is the listing, pagination, or a tag, author… page."""
    if not same_site(url, page_url):
        return "another site"
    segments = _segments(url)
    for listing in (page_url, section_url):
        if listing and (url == listing or _is_prefix(segments, _segments(listing))
                        and urlsplit(url).query == ""):
            return "the listing itself or above it"
    params = {key.lower() for key, _ in parse_qsl(urlsplit(url).query)}
    if params & PAGINATION_PARAMS:
        return "pagination"
    for segment in segments:
        if _stem(segment) in DENIED_SEGMENTS:
            return f"a /{_stem(segment)}/ page"
    if headline and _date_archive(segments):
        return "a date archive page"
    if headline or _dated(segments) or _slug(segments) or _numeric_id(segments):
        return None
    return "no date, numeric id or long slug in the URL"


def _is_prefix(segments: list[str], of: list[str]) -> bool:
    return len(segments) <= len(of) and of[:len(segments)] == segments


def _is_next_text(text: str) -> bool:
    """Next, Older posts, ← Older posts, Далее, », ›…; not Newer, Previous, «."""
    flat = " ".join(text.split()).lower()
    core = flat.strip(" .…" + FORWARD_ARROWS + BACKWARD_ARROWS).strip()
    if core:
        return core in NEXT_WORDS
    return bool(flat) and flat[-1] in FORWARD_ARROWS


def next_page_url(selector: Selector, page_url: str, page: int,
                  section_url: str | None = None) -> str | None:
    """The next listing page: a rel=next link, else a link reading Next/Older/»/Далее…,
    else a link reading `page + 1` whose URL carries that number; same site, not a page
    already read."""
    candidates: list[str] = []
    for node in selector.xpath("//link[@href] | //a[@href]"):
        rel = (node.attrib.get("rel") or "").lower().split()
        if "next" in rel:
            candidates.append(node.attrib["href"])
    for node in selector.xpath("//a[@href]"):
        labels = [" ".join(node.xpath("string(.)").get("").split()),
                  node.attrib.get("aria-label", ""), node.attrib.get("title", "")]
        if any(_is_next_text(label) for label in labels if label):
            candidates.append(node.attrib["href"])
    number = str(page + 1)
    for node in selector.xpath("//a[@href]"):
        href = node.attrib["href"]
        if " ".join(node.xpath("string(.)").get("").split()) == number and re.search(
                rf"(?<!\d){number}(?!\d)", href):
            candidates.append(href)
    for href in candidates:
        try:
            url = normalize_url(href, base=page_url)
        except BadURL:
            continue
        if url not in (page_url, section_url) and same_site(url, page_url):
            return url
    return None


def section_links(body: bytes, url: str, content_type: str | None = None,
                  selector: str | None = None, page: int = 1,
                  section_url: str | None = None,
                  max_links: int = MAX_LINKS_PER_PAGE) -> SectionPage:
    """The article links of one listing page (in page order, de-duplicated by
    normalised URL, at most `max_links`) and the next page's URL. `page` is the page's
    number (1 for the section URL itself, `section_url`)."""
    text = decode_html(body, content_type)  # the crawl's own charset rules
    response = HtmlResponse(url=url, body=text.encode("utf-8"), encoding="utf-8")
    result = SectionPage()
    result.next_page = next_page_url(response.selector, url, page, section_url)
    if selector:
        kind, expression = parse_selector(selector)
        extractor = LinkExtractor(**{f"restrict_{'css' if kind == 'css' else 'xpaths'}":
                                     expression}, unique=True)
    else:
        region = MAIN_LINKS if response.xpath("//main | //*[@role='main']") else BODY_LINKS
        extractor = LinkExtractor(restrict_xpaths=region, unique=True)
    headlines = set() if selector else _headline_urls(response, region)
    seen: set[str] = set()
    for link in extractor.extract_links(response):
        try:
            found = normalize_url(link.url)
        except BadURL as exc:
            result.rejected[link.url] = str(exc)
            continue
        if found in seen:
            continue
        seen.add(found)
        if found in (url, section_url, result.next_page):
            result.rejected[found] = "the listing itself or its next page"
            continue
        text = " ".join((link.text or "").split())
        headline = found in headlines or len(text.split()) >= HEADLINE_WORDS
        problem = None if selector else article_url_problem(found, url, section_url,
                                                            headline)
        if problem:
            result.rejected[found] = problem
            continue
        if len(result.articles) >= max_links:
            result.rejected[found] = f"more than {max_links} links on the page"
            continue
        result.articles.append(SectionLink(found, text if len(text.split()) >= 3 else None))
    return result


def _headline_urls(response: HtmlResponse, region: str) -> set[str]:
    """The normalised URLs of the region's links that wrap a heading or sit in one."""
    urls: set[str] = set()
    for href in response.xpath(f"{region}{_IN_HEADING}/@href").getall():
        try:
            urls.add(normalize_url(response.urljoin(href.strip())))
        except (BadURL, ValueError):
            continue
    return urls
