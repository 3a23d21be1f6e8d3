"""A load newsroom: ONE asyncio HTTP/1.1 server (one event loop, one thread) serving
many virtual outlets, for crawl passes of thousands of feeds.

Outlets are told apart by address, not by port, as real outlets are: outlet i listens
on its own loopback address (Linux routes all of 127.0.0.0/8 to loopback: 127.0.1.1,
127.0.1.2, …; outlets beyond 250 go on to 127.0.2.x), all on the same port, all on one
event loop. To the crawler that is one distinct host per outlet, as on the real web.
(The crawler gives ports of one loopback address their own download slots too, but a
host name per outlet is what production looks like.)

Every outlet serves robots.txt, its feeds (`/feeds/F.xml`, RSS 2.0, N entries) and
its articles (`/news/F/A.html`, 400–800 words made from a word list, light HTML with
the usual meta tags). Pages are generated on request from a seed, so the room holds
no 100 MB of text; each has a fixed ETag and Last-Modified and a conditional GET that
matches gets 304. Every response, 304s and robots.txt included, waits a random
100–300 ms (asyncio.sleep: the loop keeps serving others). Each request is logged
(outlet, path, status, conditional or not, arrival and answer time, monotonic clock).

`run_measured` runs a child process and samples its peak RSS; `pass_figures` turns
the log of one pass into the figures the load test asserts and the bench prints."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import errno
import html
import json
import os
import random
import resource
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import psutil

# Neutral news vocabulary: no leaders, no "call", so no page joins a contact story.
WORDS = """
the a an of to in on for with at by from about after before over under between
during against into through across around near since until while because although
and but or so yet if when where which who that this these those it its they their
them we our he she his her was were is are be been being has have had will would
could should may might must can said says told reported according added noted
announced expected planned agreed approved rejected proposed announced
government council ministry committee agency department office parliament court
city region province district village town county state country nation capital
company bank market industry factory farm port airport railway station bridge road
school university hospital clinic library museum theatre stadium park harbour
river lake coast mountain valley forest field island border
year month week day morning evening night season spring summer autumn winter
budget tax price cost wage salary pension loan debt credit bond share index rate
growth inflation export import trade supply demand output profit loss revenue
plan project programme policy law bill rule measure reform proposal report survey
study review inquiry audit figure number data record total average level share
water energy power fuel oil gas coal wind solar grid network cable line service
transport traffic bus train tram ferry flight cargo freight container vessel
weather rain snow storm flood drought heat cold temperature forecast
health care patient doctor nurse staff worker teacher student parent child family
resident citizen voter member official officer manager director chairman spokesman
researcher scientist engineer farmer driver pilot builder owner tenant buyer seller
local national regional public private new old major minor large small early late
high low long short strong weak rising falling growing steady stable modest sharp
first second third last next previous recent current annual monthly weekly daily
increase decrease rise fall gain drop cut boost support help improve reduce expand
build open close start finish launch complete delay extend renew replace repair
meeting session hearing vote decision agreement contract deal tender investment
fund grant subsidy scheme target goal deadline schedule timetable estimate forecast
figures showed officials residents workers analysts economists engineers councils
quarter half percent million billion thousand hundred dozen several many few most
""".split()

ARTICLE_WORDS = (400, 800)
LATENCY = (0.1, 0.3)
EPOCH = datetime(2025, 3, 1, tzinfo=UTC)
LAST_MODIFIED = "Sat, 01 Mar 2025 08:00:00 GMT"
ROBOTS = b"User-agent: *\nDisallow: /private/\n"


@dataclass(frozen=True)
class Hit:
    outlet: int
    path: str
    status: int
    conditional: bool  # the request carried If-None-Match or If-Modified-Since
    arrived: float  # time.monotonic() when the request line and headers were read
    answered: float  # when the response was handed to the socket


def outlet_address(index: int) -> str:
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _headline(rng: random.Random) -> str:
    return _sentence(rng, rng.randint(6, 10))[:-1]


class LoadRoom:
    """`feeds` feeds of `per_feed` articles each, `feeds_per_outlet` feeds per outlet
    (one loopback address per outlet). Use as a context manager, or start()/close()."""

    def __init__(self, feeds: int = 2000, per_feed: int = 10, feeds_per_outlet: int = 10,
                 latency: tuple[float, float] = LATENCY, seed: int = 1) -> None:
        self.feeds = feeds
        self.per_feed = per_feed
        self.feeds_per_outlet = feeds_per_outlet
        self.outlets = -(-feeds // feeds_per_outlet)
        self.latency = latency
        self.seed = seed
        self.log: list[Hit] = []
        self.port = 0
        self.open_connections = 0
        self.peak_connections = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.Server] = []
        self._rng = random.Random(seed)
        self._by_address = {outlet_address(i): i for i in range(self.outlets)}

    # --- layout ------------------------------------------------------------------------

    def outlet_name(self, outlet: int) -> str:
        return f"Load Outlet {outlet:04d}"

    def outlet_of_feed(self, feed: int) -> int:
        return feed // self.feeds_per_outlet

    def base(self, outlet: int) -> str:
        return f"http://{outlet_address(outlet)}:{self.port}"

    @staticmethod
    def feed_path(feed: int) -> str:
        return f"/feeds/{feed}.xml"

    @staticmethod
    def article_path(feed: int, n: int) -> str:
        return f"/news/{feed}/{n}.html"

    def feed_url(self, feed: int) -> str:
        return self.base(self.outlet_of_feed(feed)) + self.feed_path(feed)

    def article_url(self, feed: int, n: int) -> str:
        return self.base(self.outlet_of_feed(feed)) + self.article_path(feed, n)

    def article_paths(self) -> set[tuple[int, str]]:
        return {(self.outlet_of_feed(f), self.article_path(f, n))
                for f in range(self.feeds) for n in range(self.per_feed)}

    def feed_paths(self) -> set[tuple[int, str]]:
        return {(self.outlet_of_feed(f), self.feed_path(f)) for f in range(self.feeds)}

    def sources_toml(self, interval_minutes: float = 5) -> str:
        lines = ["allow_private_addresses = true", ""]
        for outlet in range(self.outlets):
            feeds = range(outlet * self.feeds_per_outlet,
                          min(self.feeds, (outlet + 1) * self.feeds_per_outlet))
            urls = ", ".join(f'"{self.feed_url(f)}"' for f in feeds)
            lines += ["[[outlets]]", f'name = "{self.outlet_name(outlet)}"',
                      f"feeds = [{urls}]", f"interval_minutes = {interval_minutes}", ""]
        return "\n".join(lines)

    # --- content -----------------------------------------------------------------------

    def published(self, feed: int, n: int) -> datetime:
        return EPOCH + timedelta(minutes=feed * self.per_feed + n)

    def headline(self, feed: int, n: int) -> str:
        return _headline(random.Random(f"{self.seed}/title/{feed}/{n}"))

    def article_body(self, outlet: int, feed: int, n: int) -> bytes:
        rng = random.Random(f"{self.seed}/article/{feed}/{n}")
        target = rng.randint(*ARTICLE_WORDS)
        paragraphs, words = [], 0
        while words < target:
            sentences = [_sentence(rng, rng.randint(8, 22)) for _ in range(rng.randint(2, 5))]
            words += sum(len(s.split()) for s in sentences)
            paragraphs.append(" ".join(sentences))
        title = html.escape(self.headline(feed, n))
        site = html.escape(self.outlet_name(outlet))
        when = self.published(feed, n)
        url = html.escape(self.article_url(feed, n))
        body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} | {site}</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="{site}">
<meta property="article:published_time" content="{when.isoformat()}">
<meta name="author" content="Desk {feed % 7}">
<link rel="canonical" href="{url}">
</head><body>
<header><a href="/">{site}</a> <nav><a href="/news/">News</a> <a href="/local/">Local</a>
<a href="/business/">Business</a></nav></header>
<main><article><h1>{title}</h1>
<p class="byline">By Desk {feed % 7} · <time datetime="{when.isoformat()}">{when:%d %B %Y}
</time></p>
{body}
</article></main>
<footer><p>© {when.year} {site}</p> <a href="/privacy">Privacy</a></footer>
</body></html>""".encode()

    def feed_body(self, outlet: int, feed: int) -> bytes:
        items = []
        for n in range(self.per_feed):
            when = self.published(feed, n)
            items.append(
                f"<item><title>{html.escape(self.headline(feed, n))}</title>"
                f"<link>{html.escape(self.article_url(feed, n))}</link>"
                f'<guid isPermaLink="false">load-{feed}-{n}</guid>'
                f"<pubDate>{format_datetime(when)}</pubDate></item>")
        site = html.escape(self.outlet_name(outlet))
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
                f"<title>{site} feed {feed}</title><link>{self.base(outlet)}/</link>"
                f"<description>{site}</description>{''.join(items)}</channel></rss>"
                ).encode()

    def route(self, outlet: int, path: str) -> tuple[int, str, bytes, str | None]:
        """(status, content type, body, ETag) for a GET of `path` on `outlet`."""
        path = path.split("?", 1)[0]
        parts = path.strip("/").split("/")
        try:
            if path == "/robots.txt":
                return 200, "text/plain", ROBOTS, None
            if len(parts) == 2 and parts[0] == "feeds" and parts[1].endswith(".xml"):
                feed = int(parts[1][:-4])
                if self._owns(outlet, feed):
                    return (200, "application/rss+xml", self.feed_body(outlet, feed),
                            f'"f{self.seed}-{feed}"')
            if len(parts) == 3 and parts[0] == "news" and parts[2].endswith(".html"):
                feed, n = int(parts[1]), int(parts[2][:-5])
                if self._owns(outlet, feed) and 0 <= n < self.per_feed:
                    return (200, "text/html; charset=utf-8",
                            self.article_body(outlet, feed, n), f'"a{self.seed}-{feed}-{n}"')
        except ValueError:
            pass
        return 404, "text/html", b"<html><body>Not found</body></html>", None

    def _owns(self, outlet: int, feed: int) -> bool:
        return 0 <= feed < self.feeds and self.outlet_of_feed(feed) == outlet

    # --- the server --------------------------------------------------------------------

    def start(self) -> LoadRoom:
        sockets = self._bind()
        self.port = sockets[0].getsockname()[1]
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def serve() -> None:
            for sock in sockets:
                self._servers.append(await asyncio.start_server(
                    self._handle, sock=sock, backlog=1024, limit=65536))
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="loadroom", daemon=True)
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("the load room did not start")
        return self

    def _bind(self) -> list[socket.socket]:
        """One listening socket per outlet address, all on one port (retried when that
        port is taken on some address)."""
        for _ in range(20):
            sockets: list[socket.socket] = []
            try:
                port = 0
                for outlet in range(self.outlets):
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    sockets.append(sock)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    sock.bind((outlet_address(outlet), port))
                    sock.listen(1024)
                    sock.setblocking(False)
                    port = sock.getsockname()[1]
                return sockets
            except OSError as exc:
                for sock in sockets:
                    sock.close()
                if exc.errno != errno.EADDRINUSE:
                    raise
        raise RuntimeError("no port free on every outlet address")

    async def _handle(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        outlet = self._by_address.get(writer.get_extra_info("sockname")[0], -1)
        self.open_connections += 1
        self.peak_connections = max(self.peak_connections, self.open_connections)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                arrived = time.monotonic()
                lines = head.decode("latin-1").split("\r\n")
                method, target, version = (lines[0].split(" ") + ["", ""])[:3]
                headers = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if length:
                    await reader.readexactly(length)
                status, ctype, body, etag = self.route(outlet, target)
                conditional = "if-none-match" in headers or "if-modified-since" in headers
                extra = ""
                if etag is not None:
                    extra = f"ETag: {etag}\r\nLast-Modified: {LAST_MODIFIED}\r\n"
                    if headers.get("if-none-match") == etag or (
                            "if-none-match" not in headers
                            and headers.get("if-modified-since") == LAST_MODIFIED):
                        status, body = 304, b""
                await asyncio.sleep(self._rng.uniform(*self.latency))
                close = (headers.get("connection", "").lower() == "close"
                         or version == "HTTP/1.0")
                reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}[status]
                head_out = (f"HTTP/1.1 {status} {reason}\r\n{extra}"
                            + (f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                               if status != 304 else "")
                            + ("Connection: close\r\n" if close else "") + "\r\n")
                writer.write(head_out.encode("latin-1")
                             + (body if method != "HEAD" else b""))
                # logged before drain() can yield: no later request can arrive first
                self.log.append(Hit(outlet, target, status, conditional, arrived,
                                    time.monotonic()))
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            self.open_connections -= 1
            writer.close()

    def close(self) -> None:
        if self._loop is None:
            return

        async def stop() -> None:
            for server in self._servers:
                server.close()
            for server in self._servers:
                await server.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        except Exception:  # noqa: BLE001 (closing: the connections go with the loop)
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> LoadRoom:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


# --- measuring a pass ----------------------------------------------------------------


@dataclass
class Measured:
    returncode: int
    started: float  # time.monotonic() just before the child was started
    ended: float  # when it was seen to have exited
    peak_rss: int  # bytes: the child and its own children, sampled
    cpu_seconds: float  # the child's user + system time, at the last sample
    samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds, rss)
    stdout: str = ""
    stderr: str = ""
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)  # at the end
    # user + system time of the child and every descendant it waited for (its
    # extraction processes): the whole crawl's CPU
    tree_cpu_seconds: float = 0.0

    @property
    def wall(self) -> float:
        return self.ended - self.started


def run_measured(command: list[str], env: dict[str, str], cwd: Path, logs: Path,
                 timeout: float, interval: float = 0.2) -> Measured:
    """Run `command`, sampling the resident memory of it and its children every
    `interval` seconds; stdout and stderr go to files in `logs` (a busy crawl logs
    megabytes: a pipe would stall it)."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / "stdout.txt", logs / "stderr.txt"
    with out_path.open("w") as out, err_path.open("w") as err:
        started = time.monotonic()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        child = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=err)
        proc = psutil.Process(child.pid)
        peak, cpu, samples = 0, 0.0, []
        try:
            while child.poll() is None:
                now = time.monotonic()
                if now - started > timeout:
                    child.kill()
                    child.wait()
                    raise TimeoutError(f"{command[-4:]} still running after {timeout:.0f} s")
                rss = _tree_rss(proc)
                if rss:
                    peak = max(peak, rss)
                    samples.append((now - started, rss))
                    cpu = _cpu(proc) or cpu
                time.sleep(interval)
            ended = time.monotonic()
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    tree_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Measured(child.returncode, started, ended, peak, cpu, samples,
                    out_path.read_text(), err_path.read_text(), os.getloadavg(), tree_cpu)


def _tree_rss(proc: psutil.Process) -> int:
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def _cpu(proc: psutil.Process) -> float:
    try:
        times = proc.cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


@dataclass
class PassFigures:
    """One pass as the server saw it. Times are seconds after the child started;
    shares are fractions of the whole command's wall time."""

    wall: float  # the whole command: start-up, the pass and its bookkeeping
    first_request: float
    last_answer: float
    requests: int
    pages: int  # article pages answered 200
    polls: int  # feed requests
    not_modified: int  # feed requests answered 304
    robots: int
    pages_per_s: float  # over the whole command
    polls_per_s: float
    feeds_polled: int  # distinct feeds requested
    last_poll: float  # the last feed's (first) poll
    last_poll_share: float
    p90_poll: float
    median_poll: float
    # outlets: when the last outlet to be served got its first article page, and when
    # the first outlet to be done got its last one (all progress together: both late)
    last_first_page_share: float
    first_done_share: float
    peak_rss_mib: float
    # the peak minus the most seen in the first quarter of the pass (start-up done, the
    # pass in full swing): what the pass itself accumulates
    rss_growth_mib: float
    cpu_seconds: float  # the crawl's own process's CPU time
    tree_cpu_seconds: float  # with its extraction processes
    load_average: float  # 1-minute, at the end
    peak_connections: int = 0

    def per_page(self) -> str:
        return f", {1000 * self.tree_cpu_seconds / self.pages:.1f} ms a page" if self.pages else ""

    def line(self) -> str:
        return (f"{self.polls} polls ({self.not_modified} not modified), {self.pages} pages "
                f"in {self.wall:.1f} s: {self.pages_per_s:.1f} pages/s, "
                f"{self.polls_per_s:.1f} polls/s; peak RSS {self.peak_rss_mib:.0f} MiB "
                f"(+{self.rss_growth_mib:.0f} after the first quarter); "
                f"crawler CPU {self.tree_cpu_seconds:.1f} s ({self.cpu_seconds:.1f} s in its "
                f"main process{self.per_page()}); feeds first polled by "
                f"{self.median_poll:.1f} s (median), {self.p90_poll:.1f} s (p90), "
                f"{self.last_poll:.1f} s (last: {100 * self.last_poll_share:.0f} % of the "
                f"pass); every outlet had a page by {100 * self.last_first_page_share:.0f} %,"
                f" none done before {100 * self.first_done_share:.0f} %; requests "
                f"{self.first_request:.1f}–{self.last_answer:.1f} s; "
                f"load {self.load_average:.2f}")


def pass_figures(room: LoadRoom, hits: list[Hit], run: Measured) -> PassFigures:
    feeds = [h for h in hits if h.path.startswith("/feeds/")]
    pages = [h for h in hits if h.path.startswith("/news/") and h.status == 200]
    first_poll: dict[tuple[int, str], float] = {}
    for h in feeds:
        key = (h.outlet, h.path)
        first_poll[key] = min(first_poll.get(key, h.arrived), h.arrived)
    polls_at = sorted(t - run.started for t in first_poll.values()) or [0.0]
    first_page: dict[int, float] = {}
    last_page: dict[int, float] = {}
    for h in pages:
        first_page[h.outlet] = min(first_page.get(h.outlet, h.arrived), h.arrived)
        last_page[h.outlet] = max(last_page.get(h.outlet, h.answered), h.answered)
    wall = run.wall
    early = max((rss for t, rss in run.samples if t <= wall / 4), default=0)
    return PassFigures(
        wall=wall,
        first_request=min((h.arrived for h in hits), default=run.started) - run.started,
        last_answer=max((h.answered for h in hits), default=run.started) - run.started,
        requests=len(hits), pages=len(pages), polls=len(feeds),
        not_modified=sum(1 for h in feeds if h.status == 304),
        robots=sum(1 for h in hits if h.path == "/robots.txt"),
        pages_per_s=len(pages) / wall, polls_per_s=len(feeds) / wall,
        feeds_polled=len(first_poll), last_poll=polls_at[-1],
        last_poll_share=polls_at[-1] / wall, p90_poll=polls_at[len(polls_at) * 9 // 10],
        median_poll=polls_at[len(polls_at) // 2],
        last_first_page_share=(max(first_page.values()) - run.started) / wall
        if first_page else 0.0,
        first_done_share=(min(last_page.values()) - run.started) / wall if last_page else 0.0,
        peak_rss_mib=run.peak_rss / 2**20, rss_growth_mib=(run.peak_rss - early) / 2**20,
        cpu_seconds=run.cpu_seconds,
        tree_cpu_seconds=run.tree_cpu_seconds,
        load_average=run.load_average[0], peak_connections=room.peak_connections,
    )


def in_flight(hits: list[Hit]) -> tuple[int, int]:
    """The most requests the server held at once, over all outlets and for any one
    outlet (a request is held from its arrival until its answer is written)."""
    def peak(group: list[Hit]) -> int:
        events = sorted([(h.arrived, 1) for h in group] + [(h.answered, -1) for h in group])
        level = top = 0
        for _, step in events:  # at equal times the answer (-1) sorts first
            level += step
            top = max(top, level)
        return top

    by_outlet: dict[int, list[Hit]] = {}
    for h in hits:
        by_outlet.setdefault(h.outlet, []).append(h)
    return peak(hits), max((peak(g) for g in by_outlet.values()), default=0)


# --- the benches' common frame (bench/load_pass.py, bench/plain_loop.py) ------------

def pass_arguments(parser: argparse.ArgumentParser) -> None:
    """The load room's size and the crawl's limits, as both benches take them."""
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--per-feed", type=int, default=10, help="articles per feed")
    parser.add_argument("--feeds-per-outlet", type=int, default=10,
                        help="feeds per outlet (one loopback address per outlet)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--per-domain", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per pass")
    parser.add_argument("--json", action="store_true", help="figures as one JSON line")


def run_passes(room: LoadRoom, command: list[str], env: dict[str, str], cwd: Path,
               logs: Path, args: argparse.Namespace) -> dict[str, dict]:
    """A first and a second pass of `command` over the room, measured; each pass's
    figures are printed unless --json."""
    results = {}
    for name in ("first", "second"):
        mark = len(room.log)
        run = run_measured(command, env, cwd, logs / name, args.timeout)
        figures = pass_figures(room, room.log[mark:], run)
        results[name] = {**dataclasses.asdict(figures), "returncode": run.returncode,
                         "summary": run.stdout.strip()}
        if not args.json:
            print(f"{name} pass: {run.stdout.strip()} (exit {run.returncode})")
            print(f"  {figures.line()}")
        if run.returncode != 0:
            print(run.stderr[-3000:], file=sys.stderr)
    return results


def passes_json(args: argparse.Namespace, results: dict[str, dict], **extra) -> str:
    return json.dumps({"feeds": args.feeds, "articles": args.feeds * args.per_feed,
                       "concurrency": args.concurrency, "per_domain": args.per_domain,
                       **results, **extra})
