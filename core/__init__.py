"""What every stage stands on: settings, logging, HTTP header parsing and URL
normalisation. Imports nothing of the project."""

__version__ = "0.1.0"
