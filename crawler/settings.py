"""Scrapy settings, all in one place, derived from backchannel's configuration."""

from __future__ import annotations

from core.config import Settings


def scrapy_settings(settings: Settings, allow_private: bool) -> dict:
    return {
        "BOT_NAME": "backchannel",
        "USER_AGENT": settings.user_agent,
        "ROBOTSTXT_OBEY": settings.obey_robots_txt,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "CONCURRENT_REQUESTS": settings.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.concurrent_requests_per_domain,
        # Scrapy starts this many asyncio tasks for every response's output (default
        # 100): a page yields one item and a feed yields requests, so 100 tasks per
        # response were a sixth of the crawl process's CPU.
        "CONCURRENT_ITEMS": 4,
        "DOWNLOAD_DELAY": settings.download_delay,
        "DOWNLOAD_DELAY_JITTER": 0.5,  # ±50 %, as RANDOMIZE_DOWNLOAD_DELAY (deprecated) did
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": settings.download_delay,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(settings.concurrent_requests_per_domain),
        "DOWNLOAD_TIMEOUT": settings.download_timeout,
        "DOWNLOAD_MAXSIZE": settings.max_page_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "COMPRESSION_ENABLED": True,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": settings.retry_times,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "REDIRECT_MAX_TIMES": 5,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_ENABLED": False,  # our own logging is already set up; Scrapy's goes through it
        "DNS_TIMEOUT": 15,
        "TWISTED_DNS_RESOLVER": "crawler.resolver.PublicOnlyResolver",
        "BACKCHANNEL_ALLOW_PRIVATE_ADDRESSES": allow_private,
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.PrivateAddressGuard": 50,
            "crawler.middlewares.PortSlots": 60,
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawler.middlewares.RobotsTxtEveryRequest": 100,  # Scrapy's place for it
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.middlewares.BackoffRetryMiddleware": 550,
            "crawler.middlewares.SizeCapMiddleware": 560,
            "crawler.middlewares.ResolverRefusalMiddleware": 570,
            "crawler.gdelt.GdeltGateMiddleware": 580,  # nearest the wire: sent on time
        },
        "BACKCHANNEL_GDELT_GAP_SECONDS": settings.gdelt_gap_seconds,
        # Sitemap documents carry their own depth in meta; Scrapy's depth middleware
        # only rewrote it, at a twentieth of the crawl process's CPU.
        "SPIDER_MIDDLEWARES": {"scrapy.spidermiddlewares.depth.DepthMiddleware": None},
        "ITEM_PIPELINES": {"crawler.pipelines.ArchivePipeline": 300},
        # (no REQUEST_FINGERPRINTER_IMPLEMENTATION: deprecated, "2.7" is the only one now)
    }
