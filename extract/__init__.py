"""Extraction: a fetched page's bytes → title, text, date, authors, language and outlet.
Plain functions over bytes, an lxml tree or a string, so that any stored page can be
extracted again alone."""

from extract.article import Extracted, extract

__all__ = ["Extracted", "extract"]
