"""`backchannel sources check`: every source of the file probed once, as a crawl would
read it, without the archive."""

from __future__ import annotations

from pathlib import Path

from archive.store import SourceState
from core.config import Settings
from core.logs import quiet_noisy_loggers
from crawler.items import PassReport, PollOutcome
from crawler.plan import crawl_settings
from crawler.sources import load_sources
from crawler.spiders.news import NewsSpider


def check_sources(settings: Settings, sources_path: Path | None = None) -> list[PollOutcome]:
    """Probe every source of the file once, reading it as a crawl would (the same Scrapy
    settings: politeness, robots.txt, retries, the private-address guard; child sitemaps
    too) but without the archive: nothing is written, no validators are sent, no article
    page is fetched. One outcome per source, in file order. Runs Scrapy's reactor, so
    once per process."""
    from scrapy.crawler import CrawlerProcess

    sources = load_sources(sources_path or settings.sources, settings.default_interval_minutes)
    states = [SourceState(id=number, outlet=s.outlet, kind=s.kind, url=s.url,
                          interval_minutes=s.interval_minutes, etag=None, last_modified=None,
                          body_sha256=None, consecutive_failures=0)
              for number, s in enumerate(sources.sources, start=1)]
    report = PassReport()
    if states:
        conf = crawl_settings(settings, sources)
        conf.update(ITEM_PIPELINES={}, LOG_INSTALL_ROOT_HANDLER=False)
        process = CrawlerProcess(conf)
        quiet_noisy_loggers()
        process.crawl(NewsSpider, sources=states, known_urls=lambda urls: set(),
                      report=report, sources_file=sources, probe=True)
        process.start()
    return [report.polls.get(s.id) or PollOutcome(s, error=f"{s.url}: not probed")
            for s in states]
