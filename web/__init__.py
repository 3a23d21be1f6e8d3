"""`backchannel serve`: a read-only web UI and JSON API over the archive.

Server-rendered HTML (Jinja2, autoescaped) and JSON (FastAPI), no JavaScript build:
the archive's own read functions (archive.search, archive.stories) do the work, so the
pages, the API and the command line always agree."""
