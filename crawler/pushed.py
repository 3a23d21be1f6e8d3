"""A feed body a WebSub hub pushed, processed as a poll of its source that got that
body: the same spider (entries → the article pages not stored yet), pipeline (extract,
classify, store, story, outbox) and poll record as a pass, so a push and a poll can
never disagree about what is stored or alerted."""

from __future__ import annotations

from pathlib import Path

from core.config import Settings
from crawler.connection import PassConnection
from crawler.items import PassReport
from crawler.plan import plan_sources
from crawler.runners import spider_arguments
from crawler.spiders.news import NewsSpider


async def crawl_pushed(settings: Settings, url: str, source_id: int, body: bytes,
                       content_type: str | None, sources_path: Path | None = None,
                       outbox=None, running: list | None = None) -> PassReport:
    """Process `body` as source `source_id`'s feed, inside the running asyncio reactor
    (the daemon's). The crawler is in `running` while it runs, so a shutdown stops it."""
    from scrapy.crawler import AsyncCrawlerRunner

    link = PassConnection.open(url)
    try:
        plan = plan_sources(link.conn, settings, sources_path, [source_id])
        report = PassReport(sources_due=len(plan.todo))
        if plan.todo:
            runner = AsyncCrawlerRunner(plan.scrapy_settings)
            crawler = runner.create_crawler(NewsSpider)
            if running is not None:
                running.append(crawler)
            try:
                await runner.crawl(crawler, **spider_arguments(plan, link, report, outbox),
                                   pushed={source_id: (body, content_type)})
            finally:
                if running is not None:
                    running.remove(crawler)
        link.finish(settings, report)
        return report
    finally:
        link.close()
