"""Fetching: the sources file, feeds, sitemaps and section pages, the Scrapy spider, its
middlewares and item pipeline, the network guard, and planning and running a pass."""
