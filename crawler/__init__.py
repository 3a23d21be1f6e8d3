"""Collecting and understanding pages: feeds, spiders, extraction, classification."""
