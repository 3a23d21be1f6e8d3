"""The one driver for a page: extract → classify → article record. The Scrapy pipeline,
`reprocess` and the tests all go through `pipeline.process.process`; storing it, placing
it in its story and deciding its alerts are the caller's, in one transaction (archive,
alerts). The package itself imports neither the extractor nor the classifier: the
crawl's process hands pages to its extraction children (pipeline.isolated) and needs
neither."""

from pipeline.page import FetchedPage, NotAnArticle

__all__ = ["FetchedPage", "NotAnArticle"]
