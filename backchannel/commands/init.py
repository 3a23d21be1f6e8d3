"""`backchannel init`: create or migrate the database (idempotent)."""

from __future__ import annotations

from archive.db import connect, migrate, migrations


def register(subparsers) -> None:
    parser = subparsers.add_parser("init", help="create or migrate the database (idempotent)")
    parser.set_defaults(handler=run)


def run(args, settings) -> int:
    conn = connect(settings, migrate_now=False)
    try:
        applied = migrate(conn)
    finally:
        conn.close()
    latest = migrations()[-1][0]
    if applied:
        print(f"database migrated to version {latest} (applied {', '.join(map(str, applied))})")
    else:
        print(f"database is up to date (version {latest})")
    return 0
