"""Helpers of crawler.extract: JSON-LD, page metadata and text clean-up, each a plain
function over an lxml tree or a string."""
