"""A throwaway database for a benchmark: on BACKCHANNEL_DATABASE_URL's server when set,
else on an embedded server under `folder`; dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo


@contextmanager
def scratch_database(folder: Path) -> Iterator[str]:
    """The URL of a new, empty database, dropped when the block ends."""
    base = os.environ.get("BACKCHANNEL_DATABASE_URL")
    if not base:
        from archive.embedded import embedded_database_url

        base = embedded_database_url(folder / "pg")
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_conninfo(base, dbname=name)
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
