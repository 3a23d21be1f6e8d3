"""The task queue's tables in the archive's database (procrastinate's, for
`backchannel run --role scheduler|worker`): whether its schema exists, creating it, and
the poll tasks queued or running. procrastinate itself reads and writes the jobs; this
module holds the few statements of ours over its tables."""

from __future__ import annotations

import psycopg


def queue_schema_exists(conn: psycopg.Connection) -> bool:
    """Whether procrastinate's jobs table exists in this database."""
    return conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS found"
                        ).fetchone()["found"]


def create_queue_schema(conn: psycopg.Connection, schema_sql: str) -> None:
    """Run procrastinate's schema script (`SchemaManager.get_schema()`) as it is."""
    conn.execute(schema_sql)


def queued_or_running(conn: psycopg.Connection, task_name: str) -> list[dict]:
    """{"queueing_lock", "lock"} of every job of this task waiting or being run."""
    return conn.execute(
        """SELECT queueing_lock, lock FROM procrastinate_jobs
           WHERE task_name = %s AND status IN ('todo', 'doing')""", (task_name,)).fetchall()
