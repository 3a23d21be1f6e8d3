"""The sources file: which outlets to watch and where (feeds, sitemaps, section pages)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import quote, urlsplit

from core.config import MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES
from core.logs import add_secret
from core.tomlfile import (
    TomlFileError,
    line_of,
    noun_of,
    read_toml,
    table_lines,
    unknown_key,
)
from core.tomlfile import where as tomlwhere
from core.urls import BadURL, host_of, normalize_url
from crawler.sections import DEFAULT_PAGES, MAX_PAGES, SelectorError, parse_selector
from extract.outlets import OutletDirectory

SOURCE_KINDS = {"feeds": "feed", "sitemaps": "sitemap", "sections": "section"}
# Per-outlet settings of its sitemaps and section pages (see crawler/spiders/).
SPIDER_KEYS = {"section_selector", "section_pages", "sitemap_first_pass_hours"}
DEFAULT_FIRST_PASS_HOURS = 48.0  # a sitemap's first pass takes entries this recent
ROBOTS = "robots"  # `sitemaps = ["robots"]`: the sitemaps the site's robots.txt lists


SEARCH_ENGINES = ("gdelt", "feed")
GDELT_ENDPOINT = "https://api.gdeltproject.org/api/v2/doc/doc"
DEFAULT_MAX_PAGES_PER_SEARCH = 200
DEFAULT_SEARCH_INTERVAL = 15.0
SEARCH_KEYS = {"name", "engine", "query", "url", "endpoint", "interval_minutes",
               "max_pages_per_search"}

OUTLET_KEYS = {"name", "domains", "interval_minutes", "official", *SOURCE_KINDS, *SPIDER_KEYS}
TOP_KEYS = {"allow_private_addresses", "outlets", "searches", "exclude_domains",
            "max_pages_per_search"}
OFFICIAL = ("ru", "us")  # `official`: the outlet is that government's own word
CREDENTIALS = re.compile(r"(//)[^/@\s'\"]+@")  # the user:password@ of a URL
BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class SourcesError(ValueError):
    """The sources file is unreadable or malformed; the message names file and entry."""


@dataclass(frozen=True)
class Source:
    outlet: str
    kind: str  # feed | sitemap | section
    url: str  # a sitemap whose path is /robots.txt: the sitemaps robots.txt lists
    interval_minutes: float
    selector: str | None = None  # sections: "css:…" / "xpath:…" picking article links
    pages: int = DEFAULT_PAGES  # sections: listing pages read per pass, pagination followed
    first_pass_hours: float = DEFAULT_FIRST_PASS_HOURS  # sitemaps: window of the first pass
    search: Search | None = None  # kind "search": the search this source runs

    @property
    def shown_url(self) -> str:
        """The URL as printed: credentials in it (user:password@) are never shown."""
        return redact_url(self.url)


@dataclass(frozen=True)
class Search:
    """A news search engine's query whose results are articles of outlets nobody
    listed: `engine` "gdelt" (GDELT DOC 2.0 API) or "feed" (an RSS/Atom results feed)."""

    name: str
    engine: str
    query: str | None  # gdelt
    url: str  # feed: the results feed; gdelt: the endpoint (the source's own URL differs)
    interval_minutes: float
    max_pages: int = DEFAULT_MAX_PAGES_PER_SEARCH  # new article pages taken per pass

    @property
    def source_url(self) -> str:
        """The URL the archive keys this search's polling state by: unique per query."""
        if self.engine == "gdelt":
            return f"{self.url}?query={quote(self.query or '', safe='')}"
        return self.url


@dataclass
class Outlet:
    name: str
    domains: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    interval_minutes: float | None = None
    official: str | None = None


@dataclass
class SourcesFile:
    path: str
    outlets: list[Outlet]
    allow_private_addresses: bool | None = None
    searches: list[Search] = field(default_factory=list)
    exclude_domains: list[str] = field(default_factory=list)

    @property
    def outlet_sources(self) -> list[Source]:
        return [source for outlet in self.outlets for source in outlet.sources]

    @property
    def search_sources(self) -> list[Source]:
        return [Source(s.name, "search", s.source_url, s.interval_minutes, search=s)
                for s in self.searches]

    @property
    def sources(self) -> list[Source]:
        return [*self.outlet_sources, *self.search_sources]

    def excluded(self, url: str) -> bool:
        """Whether the URL is on a domain `exclude_domains` names (or a subdomain)."""
        host = host_of(url)
        return any(host == d or host.endswith("." + d) for d in self.exclude_domains)

    def directory(self) -> OutletDirectory:
        """Outlet lookup by the listed domains and by the sites the sources live on."""
        return OutletDirectory(
            (o.name, [*o.domains, *(s.url for s in o.sources)]) for o in self.outlets
        )


def default_sources_path() -> Path:
    return Path(str(resources.files("crawler").joinpath("default_sources.toml")))


_parsed: dict[tuple, SourcesFile] = {}  # (path, interval, mtime, size) → the file read


def load_sources(path: Path | None, default_interval: float = 5) -> SourcesFile:
    """The sources file, checked. A file unchanged since this process last read it is
    not read again: the command line checks it before any work, then the pass uses it."""
    path = path or default_sources_path()
    try:
        stat = Path(path).stat()
        key: tuple | None = (str(path), default_interval, stat.st_mtime_ns, stat.st_size)
    except OSError:
        key = None  # read_toml says why
    if key in _parsed:
        return _parsed[key]
    try:
        data, text = read_toml(Path(path))
    except TomlFileError as exc:
        raise SourcesError(f"{exc} (sources file)") from None
    sources = parse_sources(data, str(path), default_interval, text)
    if key is not None:
        _parsed.clear()  # one file at a time is all a process reads
        _parsed[key] = sources
    return sources


def redact_url(text: str) -> str:
    """A URL, or any text holding URLs, with each user:password@ replaced by ***@: what
    is printed of a source whose URL carries credentials."""
    return CREDENTIALS.sub(r"\1***@", text)


def _name_problem(name: str) -> str | None:
    """A name printed at the start of a line (FAILED lines, logs) holds no control or
    bidirectional-override character that could forge or hide a line."""
    for char in name:
        if unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS:
            return f"`name` must not hold control characters (found {char!r})"
    return None


def named_tables(entries, origin: str, kind: str, plural: str | None = None,
                 text: str | None = None) -> list[tuple[str, str, dict]]:
    """(where, name, table) of each `[[outlets]]` or `[[searches]]` table, checked: a
    table with a unique (whatever its case), printable, non-empty `name`; `where` names
    the file, the line of the table when known, and the entry."""
    plural = plural or kind + "s"
    if not isinstance(entries, list):
        raise SourcesError(f"{origin}: `{plural}` must be an array of tables ([[{plural}]])")
    headers = table_lines(text, plural) if text is not None else []
    seen: dict[str, tuple[str, str]] = {}
    found = []
    for index, entry in enumerate(entries, start=1):
        line = headers[index - 1] if len(headers) >= index else None
        at = tomlwhere(origin, line)
        if not isinstance(entry, dict):
            raise SourcesError(f"{at}: {kind} #{index}: must be a table")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise SourcesError(f"{at}: {kind} #{index}: `name` is required")
        problem = _name_problem(name)
        if problem:
            raise SourcesError(f"{at}: {kind} #{index}: {problem}")
        name = name.strip()
        where = f"{at}: {kind} {name!r}"
        folded = name.casefold()
        if folded in seen:
            first, first_at = seen[folded]
            if first == name:
                raise SourcesError(f"{where}: listed twice (also at {first_at})")
            raise SourcesError(f"{where}: {first!r} ({first_at}) is the same {kind} (names "
                               "differ only in case); name it once")
        seen[folded] = (name, f"line {line}" if line else f"{kind} #{index}")
        found.append((where, name, entry))
    return found


def parse_sources(data: dict, origin: str, default_interval: float = 5,
                  text: str | None = None) -> SourcesFile:
    """The sources file's tables, checked before anything is polled: one SourcesError
    naming the file, the line and the entry at the first mistake."""
    for key, value in data.items():
        if key not in TOP_KEYS:
            line = line_of(text, key) if text is not None else None
            raise SourcesError(f"{tomlwhere(origin, line)}: "
                               f"{unknown_key(key, TOP_KEYS, noun_of(value))}")
    allow = data.get("allow_private_addresses")
    if allow is not None and not isinstance(allow, bool):
        line = line_of(text, "allow_private_addresses") if text is not None else None
        raise SourcesError(f"{tomlwhere(origin, line)}: allow_private_addresses must be "
                           "true or false")
    if not data.get("outlets") and not data.get("searches"):
        raise SourcesError(f"{origin}: no [[outlets]] or [[searches]] tables: nothing to "
                           "watch")
    outlets: list[Outlet] = []
    listed: dict[str, str] = {}  # URL → where it is listed
    for where, name, entry in named_tables(data.get("outlets", []), origin, "outlet",
                                           text=text):
        for key, value in entry.items():
            if key not in OUTLET_KEYS:
                raise SourcesError(f"{where}: {unknown_key(key, OUTLET_KEYS, noun_of(value))}")
        interval = entry.get("interval_minutes", default_interval)
        if not isinstance(interval, int | float) or isinstance(interval, bool) or not (
                MIN_INTERVAL_MINUTES <= interval <= MAX_INTERVAL_MINUTES):
            raise SourcesError(f"{where}: interval_minutes must be a number from "
                               f"{MIN_INTERVAL_MINUTES} to {MAX_INTERVAL_MINUTES}")
        official = entry.get("official")
        if official is not None and official not in OFFICIAL:
            raise SourcesError(f"{where}: official must be one of {', '.join(OFFICIAL)} "
                               f"(the government whose word it is), not {official!r}")
        outlet = Outlet(name=name, interval_minutes=interval, official=official)
        domains = entry.get("domains", [])
        if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
            raise SourcesError(f"{where}: `domains` must be a list of strings")
        outlet.domains = [d.strip().lower() for d in domains if d.strip()]
        options = _spider_options(entry, where)
        for key, kind in SOURCE_KINDS.items():
            urls = entry.get(key, [])
            if isinstance(urls, str):
                urls = [urls]
            if not isinstance(urls, list):
                raise SourcesError(f"{where}: `{key}` must be a list of URLs")
            for raw in urls:
                if not isinstance(raw, str):
                    raise SourcesError(f"{where}: `{key}` must be a list of URLs, not "
                                       f"{type(raw).__name__}s")
                if kind == "sitemap" and raw.strip().lower() == ROBOTS:
                    raw = _robots_url(entry, outlet.domains, where)
                try:
                    url = normalize_url(raw)
                except BadURL as exc:
                    raise SourcesError(f"{where}: {key}: {redact_url(str(exc))}") from None
                if url in listed:
                    raise SourcesError(f"{where}: {key}: {redact_url(url)} is listed "
                                       f"already, under {listed[url]}; list it once")
                listed[url] = f"outlet {name!r}"
                outlet.sources.append(Source(name, kind, url, interval, **options))
        if not outlet.sources:
            raise SourcesError(f"{where}: no source: list its feeds, sitemaps or sections")
        outlets.append(outlet)
    excluded = data.get("exclude_domains", [])
    if not isinstance(excluded, list) or not all(isinstance(d, str) for d in excluded):
        raise SourcesError(f"{origin}: exclude_domains must be a list of domain names")
    max_pages = _max_pages(data, DEFAULT_MAX_PAGES_PER_SEARCH, origin)
    searches = _searches(data.get("searches", []), origin, max_pages, text)
    for search in searches:
        if search.source_url in listed:
            raise SourcesError(f"{origin}: search {search.name!r}: url is also a source of "
                               f"{listed[search.source_url]}; list it once")
    sources = SourcesFile(path=origin, outlets=outlets, allow_private_addresses=allow,
                          searches=searches,
                          exclude_domains=[d.strip().lower().strip(".") for d in excluded
                                           if d.strip()])
    for source in sources.sources:  # never in a log line, whoever writes it
        add_secret(urlsplit(source.url).password)
    return sources


def _max_pages(entry: dict, default: int, where: str) -> int:
    value = entry.get("max_pages_per_search", default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100_000:
        raise SourcesError(f"{where}: max_pages_per_search must be a whole number from 1 "
                           "to 100000")
    return value


def _searches(entries, origin: str, max_pages: int, text: str | None) -> list[Search]:
    """The `[[searches]]` tables, checked: one clear error naming the search and key."""
    searches: list[Search] = []
    for where, name, entry in named_tables(entries, origin, "search", "searches", text):
        for key, value in entry.items():
            if key not in SEARCH_KEYS:
                raise SourcesError(f"{where}: {unknown_key(key, SEARCH_KEYS, noun_of(value))}")
        engine = entry.get("engine")
        if engine not in SEARCH_ENGINES:
            raise SourcesError(f"{where}: engine must be one of {', '.join(SEARCH_ENGINES)}, "
                               f"not {engine!r}")
        interval = entry.get("interval_minutes", DEFAULT_SEARCH_INTERVAL)
        if not isinstance(interval, int | float) or isinstance(interval, bool) or not (
                MIN_INTERVAL_MINUTES <= interval <= MAX_INTERVAL_MINUTES):
            raise SourcesError(f"{where}: interval_minutes must be a number from "
                               f"{MIN_INTERVAL_MINUTES} to {MAX_INTERVAL_MINUTES}")
        query = entry.get("query")
        if engine == "gdelt":
            if not isinstance(query, str) or not query.strip():
                raise SourcesError(f"{where}: query is required for engine gdelt")
            if "url" in entry:
                raise SourcesError(f"{where}: url is for engine feed; gdelt takes endpoint")
            key, raw = "endpoint", entry.get("endpoint", GDELT_ENDPOINT)
        else:
            if "query" in entry or "endpoint" in entry:
                raise SourcesError(f"{where}: engine feed takes url, not query or endpoint "
                                   "(the query is in the feed's URL)")
            key, raw = "url", entry.get("url")
            if raw is None:
                raise SourcesError(f"{where}: url is required for engine feed")
        if not isinstance(raw, str):
            raise SourcesError(f"{where}: {key} must be a URL")
        try:
            url = _search_url(raw, query_allowed=engine == "feed")
        except BadURL as exc:
            raise SourcesError(f"{where}: {key}: {exc}") from None
        searches.append(Search(name, engine, query.strip() if query else None, url,
                               float(interval), _max_pages(entry, max_pages, where)))
    return searches


def _search_url(raw: str, query_allowed: bool) -> str:
    """A search's URL as written: normalising would drop parameters a search engine
    needs (courlan takes Google's gl= for tracking). A GDELT endpoint has no query: the
    query is ours to add."""
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or (
            parts.query and not query_allowed) or any(c.isspace() for c in url):
        raise BadURL(f"{raw!r} is not an http(s) URL"
                     + ("" if query_allowed else " without a query"))
    normalize_url(url)  # and one that could be fetched at all
    return url


def _spider_options(entry: dict, where: str) -> dict:
    """section_selector, section_pages and sitemap_first_pass_hours, checked."""
    options: dict = {}
    selector = entry.get("section_selector")
    if selector is not None:
        if not isinstance(selector, str):
            raise SourcesError(f'{where}: section_selector must be "css:…" or "xpath:…"')
        try:
            parse_selector(selector)
        except SelectorError as exc:
            raise SourcesError(f"{where}: section_selector {exc}") from None
        options["selector"] = selector.strip()
    pages = entry.get("section_pages", DEFAULT_PAGES)
    if not isinstance(pages, int) or isinstance(pages, bool) or not 1 <= pages <= MAX_PAGES:
        raise SourcesError(f"{where}: section_pages must be a whole number from 1 to "
                           f"{MAX_PAGES}")
    options["pages"] = pages
    hours = entry.get("sitemap_first_pass_hours", DEFAULT_FIRST_PASS_HOURS)
    if not isinstance(hours, int | float) or isinstance(hours, bool) or not (
            0 < hours <= 24 * 366):
        raise SourcesError(f"{where}: sitemap_first_pass_hours must be a number of hours "
                           f"from 0 to {24 * 366}")
    options["first_pass_hours"] = float(hours)
    return options


def _robots_url(entry: dict, domains: list[str], where: str) -> str:
    """`sitemaps = ["robots"]`: robots.txt of the site of the outlet's first feed or
    section, else of its first domain (https)."""
    for key in ("feeds", "sections"):
        urls = entry.get(key, [])
        for raw in [urls] if isinstance(urls, str) else urls if isinstance(urls, list) else []:
            try:
                parts = urlsplit(normalize_url(str(raw)))
            except BadURL:
                continue
            return f"{parts.scheme}://{parts.netloc}/robots.txt"
    if domains:
        return f"https://{domains[0]}/robots.txt"
    raise SourcesError(f'{where}: sitemaps = ["robots"] needs a feed, a section or a domain '
                       f"to find robots.txt on")
