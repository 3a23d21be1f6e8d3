"""Extraction: a fetched page's bytes → title, text, date, authors, language and outlet.
Plain functions over bytes, an lxml tree or a string, so that any stored page can be
extracted again alone."""

from extract.article import Extracted, ExtractionLimit, extract

# Stored with each article, so that `reprocess` redoes what an older extractor made.
# Raise it whenever a change to extraction can change an article's fields.
EXTRACTOR_VERSION = "extract-3"

__all__ = ["EXTRACTOR_VERSION", "Extracted", "ExtractionLimit", "extract"]
