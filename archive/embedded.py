"""A PostgreSQL of our own under BACKCHANNEL_HOME, for users with no server.

Two mechanisms, tried in order:
1. the `pgserver` wheel (PostgreSQL 16 inside the Python package; starts in about a
   second, works as root or not; wheels only for CPython 3.11/3.12 on Linux x86-64
   and macOS arm64). The server stops when the last process using it exits.
2. the machine's own PostgreSQL binaries (`initdb`, `pg_ctl`, found on PATH, through
   `pg_config --bindir` or under /usr/lib/postgresql). PostgreSQL refuses to run as
   root, so as root the server runs as the `postgres` user through `runuser`. It
   listens on a Unix socket in the data directory only and is left running for the
   next command (stop it with `pg_ctl -D <home>/postgres/data stop`).
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

DB_NAME = "backchannel"
_servers: dict[Path, object] = {}  # keeps pgserver handles alive for the process's life


class EmbeddedUnavailable(RuntimeError):
    """Neither pgserver nor PostgreSQL binaries could give us a server."""


def embedded_database_url(data_dir: Path) -> str:
    """Start (or reuse) the embedded server in data_dir and return a URL for our database.

    A data directory that already holds an archive is only ever started with the
    mechanism that made it: should that fail (a full disk, a missing package), the
    error is raised, never an empty second archive started beside the first."""
    data_dir = data_dir.expanduser().resolve()
    pgdata, system = data_dir / "pgserver", data_dir / "system"
    has_pgserver = (pgdata / "PG_VERSION").exists()
    has_system = (system / "data" / "PG_VERSION").exists()
    errors: list[str] = []
    if has_pgserver or not has_system:
        try:
            return _with_database(pgserver_url(pgdata))
        except ImportError:
            if has_pgserver:
                raise EmbeddedUnavailable(
                    f"the archive in {pgdata} needs the pgserver package, which is not "
                    "installed") from None
            errors.append("the pgserver package is not installed (no wheel for this platform)")
        except Exception as exc:  # pgserver raises plain exceptions on start failures
            reason = _failure_reason(pgdata, exc)
            if has_pgserver:
                raise EmbeddedUnavailable(
                    f"cannot start the embedded PostgreSQL in {pgdata}: {reason}") from None
            errors.append(f"pgserver failed: {reason}")
            log.warning("embedded pgserver failed, trying the system PostgreSQL: %s", reason)
    try:
        return _with_database(system_server_url(system))
    except EmbeddedUnavailable as exc:
        if has_system:
            raise
        errors.append(str(exc))
    message = "cannot start an embedded PostgreSQL: " + "; ".join(errors)
    if NO_SPACE not in message:
        message += (". Install PostgreSQL (e.g. `apt-get install postgresql`) or set "
                    "BACKCHANNEL_DATABASE_URL to an existing server.")
    raise EmbeddedUnavailable(message)


NO_SPACE = "No space left on device"  # strerror(ENOSPC), as PostgreSQL and Python say it


def _failure_reason(pgdata: Path, exc: Exception) -> str:
    """Why the server did not start, in one line: pgserver's exceptions name only the
    command that failed; the server's own log says why."""
    if isinstance(exc, subprocess.CalledProcessError):
        program = Path(str(exc.cmd[0])).name if exc.cmd else "a PostgreSQL command"
        reason = f"{program} exited with status {exc.returncode}"
        detail = _last_server_error(pgdata / "log")
        if detail:
            reason += f": {detail}"
    elif isinstance(exc, subprocess.TimeoutExpired):
        reason = f"the server did not start within {exc.timeout:.0f} s"
        detail = _last_server_error(pgdata / "log")
        if detail:
            reason += f": {detail}"
    else:
        reason = " ".join(str(exc).split()) or type(exc).__name__
    return reason + disk_full_note(pgdata, reason)


def _last_server_error(server_log: Path) -> str | None:
    """The last FATAL or PANIC line the server logged since it last started or stopped."""
    try:
        with server_log.open("rb") as handle:
            handle.seek(max(0, server_log.stat().st_size - 16384))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    found = None
    for line in lines:
        if "database system is ready" in line or "database system is shut down" in line:
            found = None
        for level in ("FATAL:", "PANIC:"):
            if level in line:
                found = level + " " + line.split(level, 1)[1].strip()
    return found


def disk_full_note(path: Path, reason: str = "") -> str:
    """A hint when the disk holding `path` is full (or the reason says so); else ''."""
    try:
        where = path if path.exists() else path.parent
        free = shutil.disk_usage(where).free
    except OSError:
        free = None
    if NO_SPACE not in reason and (free is None or free >= 1 << 20):
        return ""
    said = "" if NO_SPACE in reason else f"{NO_SPACE}: "
    room = f" ({free} bytes free)" if free is not None else ""
    return f"; {said}the disk holding {path} is full{room}: free some space and run again"


def pgserver_url(pgdata: Path) -> str:
    import warnings

    with warnings.catch_warnings():  # pgserver's lock file falls back to /tmp: harmless
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver  # noqa: PLC0415 - optional, platform-dependent dependency

    pgdata.mkdir(parents=True, exist_ok=True)
    server = _servers.get(pgdata)
    if server is None:
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
        _servers[pgdata] = server
    return server.get_uri()


def find_postgres_bindir() -> Path | None:
    """Where initdb and pg_ctl live: PATH, pg_config, or Debian's versioned folders."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 timeout=10)
            bindir = Path(out.stdout.strip())
            if (bindir / "initdb").exists():
                return bindir
        except (OSError, subprocess.SubprocessError):
            pass
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    candidates += sorted(glob.glob("/usr/local/pgsql/bin/initdb"))
    return Path(candidates[0]).parent if candidates else None


def _run_as(user: str | None, argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def system_server_url(base: Path) -> str:
    bindir = find_postgres_bindir()
    if bindir is None:
        raise EmbeddedUnavailable("no PostgreSQL binaries (initdb, pg_ctl) on this machine")
    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise EmbeddedUnavailable(
                "running as root and there is no `postgres` user to run the server as"
            ) from None
        if not shutil.which("runuser"):
            raise EmbeddedUnavailable("running as root and `runuser` is not available")
        user = "postgres"
    data = base / "data"
    sock = base / "run"
    base.mkdir(parents=True, exist_ok=True)
    sock.mkdir(exist_ok=True)
    if user:
        shutil.chown(base, user)
        shutil.chown(sock, user)
        for parent in base.parents:  # the server user must be able to reach its folder
            if parent == Path("/"):
                break
            mode = os.stat(parent).st_mode
            if mode & 0o001 == 0:
                log.warning("letting the postgres user traverse %s (chmod o+x)", parent)
                os.chmod(parent, mode | 0o001)
    if not (data / "PG_VERSION").exists():
        result = _run_as(user, [str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                                "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
        if result.returncode != 0:
            raise EmbeddedUnavailable(f"initdb failed: {result.stderr.strip()[-500:]}")
    status = _run_as(user, [str(bindir / "pg_ctl"), "-D", str(data), "status"], timeout=30)
    if status.returncode != 0:
        options = f"-c listen_addresses='' -c unix_socket_directories='{sock}'"
        result = _run_as(user, [str(bindir / "pg_ctl"), "-D", str(data), "-l",
                                str(base / "server.log"), "-o", options, "-w", "-t", "60",
                                "start"])
        if result.returncode != 0:
            tail = ""
            try:
                tail = (base / "server.log").read_text(errors="replace")[-800:]
            except OSError:
                pass
            raise EmbeddedUnavailable(f"pg_ctl start failed: {result.stderr.strip()} {tail}")
    return f"postgresql://postgres@/postgres?host={quote(str(sock))}"


def stop_system_server(base: Path) -> None:
    """Stop a server started by system_server_url (used by tests and `pg_ctl` users)."""
    bindir = find_postgres_bindir()
    if bindir is None:
        return
    user = "postgres" if os.geteuid() == 0 else None
    _run_as(user, [str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "fast", "-w",
                   "stop"], timeout=60)


def _with_database(server_url: str) -> str:
    """Create our database on the server if missing; return its URL."""
    import psycopg  # noqa: PLC0415

    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)
                ).fetchone()
                if not exists:
                    try:
                        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
                    except psycopg.errors.DuplicateDatabase:
                        pass  # another process created it first
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    return server_url.replace("/postgres?", f"/{DB_NAME}?", 1)
