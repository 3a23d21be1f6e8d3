"""Scrapy spiders. Each yields `FetchedPage` items for the archive pipeline."""
