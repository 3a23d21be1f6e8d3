"""`backchannel serve` under a crowd: requests/s, p50/p95 and 5xx at 1, 10, 50, 200 clients.

Method: a scratch archive of N generated articles with their stories is filled the way
bench/search_scale.py fills one (COPY of realistic generated text, then VACUUM ANALYZE),
`backchannel serve` is started on it as a user starts it (a subprocess, default settings
unless BACKCHANNEL_WEB_* variables say otherwise), and for each level C clients run at
once for `--seconds`: each client is one keep-alive HTTP connection (an httpx client
of its own, asyncio)
sending its next request as soon as the last one is answered, in turn `/api/stories`,
`/api/search?q=<two common words>` and `/` (the HTML stories page). A request still
unanswered `--timeout` seconds after it was sent counts as a timeout. Reported per level:
requests/s (answers over the level's wall time, stragglers included), p50/p95/max
latency, 503s (and whether they carried Retry-After), other 5xx, timeouts and the
server's CPU. Then a keep-alive probe: 30 requests one after another on one connection
from a plain socket without TCP_NODELAY (the Nagle / delayed-ACK pattern shows as about
40 ms from the second request on).

    .venv/bin/python bench/web_load.py [--articles 20000] [--clients 1,10,50,200]
        [--seconds 10] [--timeout 30] [--server-pythonpath DIR] [--url URL]
        [--keep] [--reuse NAME] [--pgdata DIR]

Uses BACKCHANNEL_DATABASE_URL if set (a scratch database is created in it), else an
embedded server in a temporary directory (or --pgdata DIR; with --keep or --reuse the
default is <tmp>/backchannel-web-load, so a filled archive can be measured again, e.g.
against another version of the code with --server-pythonpath). `--url` measures a server
that is already running instead.

`load()` and `summary()` are also what tests/web/test_web_load.py runs at a small size.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent

# Two-word searches a user would type about the story the archive follows.
QUERIES = ["putin call", "trump putin", "kremlin phone", "peskov call", "white house",
           "putin trump", "phone call", "kremlin talks", "trump call", "moscow summit",
           "sanctions ceasefire", "president said"]


@dataclass
class Answer:
    path: str
    status: int | None  # None: no answer (timeout or transport error)
    seconds: float
    retry_after: str | None = None
    error: str | None = None


def paths(seed: int) -> itertools.cycle:
    """The request mix, in turn: the stories API, a search, the HTML stories page."""
    rng = random.Random(seed)
    mix = []
    for _ in range(30):
        mix += ["/api/stories", f"/api/search?q={rng.choice(QUERIES).replace(' ', '+')}", "/"]
    return itertools.cycle(mix)


async def _client(client: httpx.AsyncClient, deadline: float, seed: int,
                  answers: list[Answer]) -> None:
    mix = paths(seed)
    while time.monotonic() < deadline:
        path = next(mix)
        started = time.monotonic()
        try:
            response = await client.get(path)
            answers.append(Answer(path, response.status_code, time.monotonic() - started,
                                  response.headers.get("retry-after")))
        except httpx.HTTPError as exc:
            answers.append(Answer(path, None, time.monotonic() - started,
                                  error=type(exc).__name__))


async def load(base_url: str, clients: int, seconds: float, timeout: float = 30.0,
               headers: dict[str, str] | None = None) -> tuple[list[Answer], float]:
    """`clients` keep-alive clients for `seconds`; (every answer, wall time until the last
    client's last answer). An httpx client of one connection for each: one shared
    client's pool looks through all its connections for every request, which at 200
    cost the benchmark itself about 6 ms of CPU a request and capped it near 150
    requests/s whatever the server did. Over plain HTTP no certificate is checked, so
    no client loads the CA bundle (that made 200 clients take seconds to start)."""
    answers: list[Answer] = []
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    plain = base_url.startswith("http://")
    async with contextlib.AsyncExitStack() as stack:
        made = [await stack.enter_async_context(httpx.AsyncClient(
            base_url=base_url, limits=limits, headers=headers or {}, verify=not plain,
            timeout=httpx.Timeout(timeout, pool=None))) for _ in range(clients)]
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(_client(client, deadline, seed, answers)
                               for seed, client in enumerate(made)))
        return answers, time.monotonic() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def summary(answers: list[Answer], wall: float) -> dict:
    latencies = [a.seconds for a in answers]
    busy = [a for a in answers if a.status == 503]
    return {"requests": len(answers), "per_second": len(answers) / wall if wall else 0.0,
            "p50_ms": percentile(latencies, 0.50) * 1000,
            "p95_ms": percentile(latencies, 0.95) * 1000,
            "max_ms": max(latencies, default=float("nan")) * 1000,
            "ok": sum(1 for a in answers if a.status is not None and a.status < 400),
            "503": len(busy),
            "503_without_retry_after": sum(1 for a in busy if not a.retry_after),
            "other_5xx": sum(1 for a in answers if a.status and a.status >= 500
                             and a.status != 503),
            "other_4xx": sum(1 for a in answers if a.status and 400 <= a.status < 500),
            "no_answer": sum(1 for a in answers if a.status is None)}


def keep_alive_probe(host: str, port: int, path: str = "/api/stories?limit=1",
                     count: int = 30) -> list[float]:
    """Seconds per request, one after another on one connection, from a socket without
    TCP_NODELAY (as many simple clients are)."""
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n").encode()
    took = []
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
        reader = sock.makefile("rb")
        for _ in range(count):
            started = time.perf_counter()
            sock.sendall(request)
            length = None
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if length is None:
                raise RuntimeError(f"{path}: answer without Content-Length")
            reader.read(length)
            took.append(time.perf_counter() - started)
    return took


def server_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc), 0 where that cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(database_url: str, pythonpath: str | None,
                 log: Path) -> tuple[subprocess.Popen, str]:
    """The server's log goes to a file: a pipe nobody reads would fill up (a line per
    request) and stall the server."""
    port = free_port()
    code = pythonpath or os.environ.get("PYTHONPATH") or str(ROOT)
    env = {**os.environ, "BACKCHANNEL_DATABASE_URL": database_url, "PYTHONPATH": code}
    env.pop("BACKCHANNEL_WEB_TOKEN", None)
    server = subprocess.Popen([sys.executable, "-m", "backchannel", "serve", "--port",
                               str(port)], env=env, cwd=log.parent,  # not this checkout
                              stdout=subprocess.DEVNULL,
                              stderr=log.open("w"))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"backchannel serve exited: {log.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            server.terminate()
            raise RuntimeError("backchannel serve did not answer /healthz within 120 s")
        time.sleep(0.2)


def measure(base: str, levels: list[int], seconds: float, timeout: float,
            pid: int | None) -> None:
    print(f"\n{'clients':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
          f"{'503':>5} {'503 w/o RA':>10} {'o.5xx':>5} {'no ans':>6} {'4xx':>4} {'cpu':>5}")
    for clients in levels:
        cpu0, wall0 = server_cpu_seconds(pid) if pid else 0.0, time.monotonic()
        answers, wall = asyncio.run(load(base, clients, seconds, timeout))
        cpu = (server_cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0) if pid else 0.0
        s = summary(answers, wall)
        print(f"{clients:>7} {s['per_second']:>7.1f} {s['p50_ms']:>8.1f} {s['p95_ms']:>8.1f} "
              f"{s['max_ms']:>8.0f} {s['503']:>5} {s['503_without_retry_after']:>10} "
              f"{s['other_5xx']:>5} {s['no_answer']:>6} {s['other_4xx']:>4} "
              f"{cpu * 100:>4.0f}%", flush=True)
        by_path: dict[str, list[float]] = {}
        for a in answers:
            by_path.setdefault(a.path.split("?")[0], []).append(a.seconds)
        print("        " + "  ".join(f"{p} p50 {percentile(v, .5) * 1000:.1f} ms "
                                      f"p95 {percentile(v, .95) * 1000:.1f} ms"
                                      for p, v in sorted(by_path.items())))
        time.sleep(1)  # let the server settle (stragglers, connections closing)
    host, port = base.removeprefix("http://").rsplit(":", 1)
    took = keep_alive_probe(host, int(port))
    later = sorted(took[1:])
    print(f"\nkeep-alive probe (one connection, no TCP_NODELAY, {len(took)} requests): "
          f"first {took[0] * 1000:.1f} ms, then median {later[len(later) // 2] * 1000:.1f} ms, "
          f"max {later[-1] * 1000:.1f} ms")


def fill(url: str, articles: int, owned: bool) -> None:
    sys.path.insert(0, str(BENCH))
    import search_scale  # the generated archive of the search benchmark

    search_scale.fill(url, argparse.Namespace(articles=articles, seed=7, load="indexed",
                                              workers=2, raw_page_kb=0), owned)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--clients", default="1,10,50,200",
                        help="comma-separated levels of concurrent clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="per level")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="a request unanswered this long counts as no answer")
    parser.add_argument("--server-pythonpath", help="PYTHONPATH of the server (another "
                        "checkout's code); default: this one's")
    parser.add_argument("--url", help="measure this running server instead")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument("--reuse", metavar="NAME", help="measure this filled database")
    parser.add_argument("--pgdata", type=Path, help="the embedded server's directory")
    args = parser.parse_args()
    try:
        levels = [int(level) for level in args.clients.split(",") if level.strip()]
    except ValueError:
        parser.error(f"--clients: not a comma-separated list of numbers: {args.clients!r}")
    if not levels or min(levels) < 1:
        parser.error("--clients: each level must be at least 1")
    if args.url:
        measure(args.url.rstrip("/"), levels, args.seconds, args.timeout, None)
        return

    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    sys.path.insert(0, str(ROOT))
    owned = not os.environ.get("BACKCHANNEL_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="backchannel-bench-") as tmp:
        if owned:
            from archive.embedded import embedded_database_url

            pgdata = args.pgdata or (Path(tempfile.gettempdir()) / "backchannel-web-load"
                                     if args.keep or args.reuse else Path(tmp) / "pg")
            base_url = embedded_database_url(pgdata)
        else:
            base_url = os.environ["BACKCHANNEL_DATABASE_URL"]
        name = args.reuse or f"web_load_{uuid.uuid4().hex[:8]}"
        url = make_conninfo(base_url, dbname=name)
        if not args.reuse:
            with psycopg.connect(base_url, autocommit=True) as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        server = None
        try:
            if not args.reuse:
                fill(url, args.articles, owned)
            server, base = start_server(url, args.server_pythonpath, Path(tmp) / "serve.log")
            print(f"backchannel serve at {base} on {name} "
                  f"(code from {args.server_pythonpath or 'this checkout'})", flush=True)
            measure(base, levels, args.seconds, args.timeout, server.pid)
        finally:
            if server is not None:
                server.terminate()
                server.wait(30)
            if not (args.keep or args.reuse):
                with psycopg.connect(base_url, autocommit=True) as admin:
                    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(name)))
            else:
                print(f"kept: --reuse {name}" + (f" --pgdata {args.pgdata}" if args.pgdata
                                                 else ""))


if __name__ == "__main__":
    main()
