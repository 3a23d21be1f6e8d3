"""The one driver for a page: extract → classify → article record. The Scrapy pipeline,
`reprocess` and the tests all go through `process`; storing it, placing it in its story
and deciding its alerts are the caller's, in one transaction (archive, alerts)."""

from pipeline.page import FetchedPage
from pipeline.process import NotAnArticle, Processed, process

__all__ = ["FetchedPage", "NotAnArticle", "Processed", "process"]
