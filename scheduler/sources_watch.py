"""The sources file under a running daemon: looked at every tick (its mtime and size,
then its bytes' hash), and re-read only when it changed, so that an edit takes effect
at the next tick rather than after each source's next poll."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from archive.db import connect
from archive.reschedule import reschedule_intervals
from crawler.sources import SourcesError, SourcesFile, default_sources_path, load_sources

log = logging.getLogger(__name__)


class SourcesWatch:
    """What the daemon knows of its sources file between ticks."""

    def __init__(self, path: Path | None, default_interval: float) -> None:
        self.path = Path(path) if path else default_sources_path()
        self.default_interval = default_interval
        self.signature: tuple[int, int] | None = None
        self.digest: str | None = None
        self.sources: SourcesFile | None = None  # the last version that read well
        self.error: str | None = None  # why the file as it is now cannot be used
        self.unapplied: SourcesFile | None = None  # read, its intervals not yet compared

    def changed(self) -> SourcesFile | None:
        """The file parsed again when its content changed since the last look, else
        None. SourcesError (once per change) when the changed file no longer reads."""
        try:
            stat = self.path.stat()
            signature = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            signature = None
        if signature is not None and signature == self.signature:
            return None
        self.signature = signature
        try:
            digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            digest = None
        if digest is not None and digest == self.digest:
            return None  # touched, not changed
        self.digest = digest
        try:
            sources = load_sources(self.path, self.default_interval)
        except SourcesError as exc:
            self.error = str(exc)
            raise
        self.error = None
        first = self.sources is None
        self.sources = self.unapplied = sources
        if not first:
            log.info("sources file changed: %d sources now", len(sources.sources),
                     extra={"source": str(self.path)})
        return sources

    def apply(self, database_url: str) -> list[str]:
        """Look at the file; when it changed (or was first read), move the next poll of
        every source whose interval changed (new sources are due at once anyway, removed
        ones are no longer planned). Returns the URLs rescheduled."""
        self.changed()
        sources, self.unapplied = self.unapplied, None
        if sources is None:
            return []
        intervals = {source.url: source.interval_minutes for source in sources.sources}
        try:
            with connect(database_url, migrate_now=False) as conn:
                moved = reschedule_intervals(conn, intervals)
        except Exception:
            self.unapplied = sources  # the next tick tries again
            raise
        for url in moved:
            log.info("interval changed in the sources file: rescheduled from its last poll",
                     extra={"source": url})
        return moved
