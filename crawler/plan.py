"""What a pass polls: the sources file read once, synced into the archive, and the
sources that are due. The parsed file travels with the plan to the spider and the
pipeline, so that one pass sees one version of the file."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from archive.discovery import due_followed, followed_sources
from archive.store import SourceState, due_sources, source_states, states_by_id, sync_sources
from core.config import Settings
from core.urls import host_of
from crawler.settings import scrapy_settings
from crawler.sources import SourcesFile, load_sources

log = logging.getLogger(__name__)


@dataclass
class PassPlan:
    sources_file: SourcesFile  # parsed once for the pass; the pipeline reads this one
    todo: list[SourceState]  # the sources to poll, in order
    scrapy_settings: dict  # this pass's own copy


def crawl_settings(settings: Settings, sources_file: SourcesFile) -> dict:
    """The Scrapy settings of a pass over this file (it may allow private addresses)."""
    allow_private = (settings.allow_private_addresses
                     or bool(sources_file.allow_private_addresses))
    return scrapy_settings(settings, allow_private)


def plan_pass(conn, settings: Settings, sources_path: Path | None, all_sources: bool,
              per_host: int | None = None) -> PassPlan:
    """The sources to poll now (every one with `all_sources`; at most `per_host` of one
    host, the longest-waiting first)."""
    sources_path = sources_path or settings.sources
    sources = load_sources(sources_path, settings.default_interval_minutes)
    states = _states(conn, sources, sources_path)
    if all_sources:
        todo = list(states.values())
    else:
        due = due_sources(conn, list(states), datetime.now(UTC))  # longest-waiting first
        per_host_count: Counter[str] = Counter()
        todo = []
        for url in due:
            host = host_of(url)
            if per_host is None or per_host_count[host] < per_host:
                per_host_count[host] += 1
                todo.append(states[url])
    # feeds promoted by `backchannel outlets follow`: in the archive, not the file
    followed = followed_sources(conn) if all_sources else due_followed(conn)
    todo += [state for state in followed if state.url not in states]
    log.info("polling %d of %d sources", len(todo), len(states))
    return PassPlan(sources, todo, crawl_settings(settings, sources))


_synced: dict[tuple, tuple] = {}  # (file, database) → the file's (mtime, size) last synced


def _states(conn, sources: SourcesFile, sources_path: Path | None) -> dict[str, SourceState]:
    """Sync the sources file into the archive when it changed (the daemon looks every few
    seconds: rewriting every row each time would only churn the table), else read."""
    signature = _signature(sources_path)
    key = (str(sources_path), conn.info.host, conn.info.port, conn.info.dbname)
    states = source_states(conn, sources) if signature and _synced.get(key) == signature \
        else None
    if states is None or len(states) != len(sources.sources):
        states = sync_sources(conn, sources)
        if signature:
            _synced[key] = signature
    return states


_worker_files: dict[tuple, tuple] = {}  # (file, interval) → ((mtime, size), parsed file)


def plan_sources(conn, settings: Settings, sources_path: Path | None,
                 source_ids: list[int]) -> PassPlan:
    """For a distributed worker: the polling state of the named sources, read only (the
    scheduler syncs the sources file into the archive). A source no longer in the file
    is left out. The file is read again only when it changed."""
    sources_path = sources_path or settings.sources
    signature = _signature(sources_path)
    key = (str(sources_path), settings.default_interval_minutes)
    cached = _worker_files.get(key)
    if cached is None or signature is None or cached[0] != signature:
        cached = (signature, load_sources(sources_path, settings.default_interval_minutes))
        _worker_files[key] = cached
    sources = cached[1]
    outlet_of = {s.url: s.outlet for s in sources.sources}
    outlet_of.update({s.url: s.outlet for s in followed_sources(conn)
                      if s.url not in outlet_of})
    todo = states_by_id(conn, source_ids, outlet_of)
    return PassPlan(sources, todo, crawl_settings(settings, sources))


def _signature(sources_path: Path | None) -> tuple[int, int] | None:
    """The file's (mtime, size), or None when it cannot be looked at."""
    if not sources_path:
        return None
    try:
        stat = Path(sources_path).stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size
