"""The sources file: which outlets to watch and where (feeds, sitemaps, section pages)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from core.urls import BadURL, normalize_url
from crawler.sections import DEFAULT_PAGES, MAX_PAGES, SelectorError, parse_selector
from extract.outlets import OutletDirectory

SOURCE_KINDS = {"feeds": "feed", "sitemaps": "sitemap", "sections": "section"}
# Per-outlet settings of its sitemaps and section pages (see crawler/spiders/).
SPIDER_KEYS = {"section_selector", "section_pages", "sitemap_first_pass_hours"}
DEFAULT_FIRST_PASS_HOURS = 48.0  # a sitemap's first pass takes entries this recent
ROBOTS = "robots"  # `sitemaps = ["robots"]`: the sitemaps the site's robots.txt lists


MIN_INTERVAL_MINUTES = 0.01  # under a second: for local test servers only
MAX_INTERVAL_MINUTES = 7 * 24 * 60


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

    @property
    def sources(self) -> list[Source]:
        return [source for outlet in self.outlets for source in outlet.sources]

    def directory(self) -> OutletDirectory:
        """Outlet lookup by the listed domains and by the sites the sources live on."""
        return OutletDirectory(
            (o.name, [*o.domains, *(s.url for s in o.sources)]) for o in self.outlets
        )


def default_sources_path() -> Path:
    return Path(str(resources.files("crawler").joinpath("default_sources.toml")))


def load_sources(path: Path | None, default_interval: float = 5) -> SourcesFile:
    path = path or default_sources_path()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourcesError(f"{path}: sources file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourcesError(f"{path}: not valid TOML: {exc}") from None
    return parse_sources(data, str(path), default_interval)


def parse_sources(data: dict, origin: str, default_interval: float = 5) -> SourcesFile:
    allow = data.get("allow_private_addresses")
    if allow is not None and not isinstance(allow, bool):
        raise SourcesError(f"{origin}: allow_private_addresses must be true or false")
    entries = data.get("outlets", [])
    if not isinstance(entries, list):
        raise SourcesError(f"{origin}: `outlets` must be an array of tables ([[outlets]])")
    outlets: list[Outlet] = []
    seen_names: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        where = f"{origin}: outlet #{index}"
        if not isinstance(entry, dict):
            raise SourcesError(f"{where}: must be a table")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise SourcesError(f"{where}: `name` is required")
        name = name.strip()
        where = f"{origin}: outlet {name!r}"
        if name in seen_names:
            raise SourcesError(f"{where}: listed twice")
        seen_names.add(name)
        interval = entry.get("interval_minutes", default_interval)
        if not isinstance(interval, int | float) or isinstance(interval, bool) or not (
                MIN_INTERVAL_MINUTES <= interval <= MAX_INTERVAL_MINUTES):
            raise SourcesError(f"{where}: interval_minutes must be a number from "
                               f"{MIN_INTERVAL_MINUTES} to {MAX_INTERVAL_MINUTES}")
        outlet = Outlet(name=name, interval_minutes=interval, official=entry.get("official"))
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
                if kind == "sitemap" and str(raw).strip().lower() == ROBOTS:
                    raw = _robots_url(entry, outlet.domains, where)
                try:
                    url = normalize_url(str(raw))
                except BadURL as exc:
                    raise SourcesError(f"{where}: {key}: {exc}") from None
                outlet.sources.append(Source(name, kind, url, interval, **options))
        unknown = set(entry) - {"name", "domains", "interval_minutes", "official",
                                *SOURCE_KINDS, *SPIDER_KEYS}
        if unknown:
            raise SourcesError(f"{where}: unknown keys {sorted(unknown)}")
        outlets.append(outlet)
    return SourcesFile(path=origin, outlets=outlets, allow_private_addresses=allow)


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
