"""backchannel: a news-monitoring crawler for unconfirmed Kremlin–White House contacts."""

from core import __version__

__all__ = ["__version__"]
