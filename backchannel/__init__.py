"""backchannel: a news-monitoring crawler for unconfirmed Kremlin–White House contacts."""

__version__ = "0.1.0"
