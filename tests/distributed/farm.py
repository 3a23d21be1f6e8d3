"""A news farm for the distributed tests: a few hosts (each its own loopback address,
127.0.0.N, so that per-host politeness is per real host), each serving many RSS feeds
and their article pages, logging every request with its start and end time. Each host's
first article reports an unconfirmed Putin–Trump call (one alert per outlet); the rest
are plain local news. Also the processes (`backchannel run --role …`) the tests start."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from conftest import ROOT
from newsroom import CALL_REPORT, article_html, report_paragraphs, rss_feed
from receivers import free_port

TOWNS = ["Ashford", "Brigham", "Carlow", "Dunmore", "Elgin", "Fenwick", "Galway", "Hartley",
         "Ives", "Jarrow", "Kendal", "Lismore", "Marlow", "Naseby", "Oakham", "Penrith"]


@dataclass
class Hit:
    host: str
    path: str
    start: float
    end: float


class Host:
    def __init__(self, farm: Farm, number: int) -> None:
        self.address = f"127.0.0.{10 + number}"
        self.outlet = f"{TOWNS[number % len(TOWNS)]} Courier {number}"
        self.routes: dict[str, tuple[bytes, str]] = {
            "/robots.txt": (b"User-agent: *\nDisallow: /private/\n", "text/plain")}
        host = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                start = time.time()
                body, kind = host.routes.get(self.path, (b"not found", "text/plain"))
                if farm.page_delay and self.path.startswith("/news/"):
                    time.sleep(farm.page_delay)
                status = 404 if body == b"not found" else 200
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                farm.log.append(Hit(host.address, self.path, start, time.time()))

        self.server = ThreadingHTTPServer((self.address, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://{self.address}:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Farm:
    def __init__(self, hosts: int, feeds_per_host: int, articles_per_feed: int = 1,
                 page_delay: float = 0.0) -> None:
        self.page_delay = page_delay
        self.log: list[Hit] = []
        self.hosts = [Host(self, n) for n in range(hosts)]
        self.feeds: dict[str, list[str]] = {}
        self.articles: list[str] = []
        self.calls: list[str] = []  # the articles that report the call, one per outlet
        published = datetime.fromisoformat("2025-05-04T08:00:00+00:00")
        for host in self.hosts:
            for f in range(feeds_per_host):
                items = []
                for a in range(articles_per_feed):
                    path = f"/news/{f}-{a}.html"
                    url = host.base + path
                    when = published + timedelta(minutes=f * 7 + a)
                    if f == 0 and a == 0:
                        title = f"Putin and Trump said to have spoken by phone ({host.outlet})"
                        paragraphs = CALL_REPORT
                        self.calls.append(url)
                    else:
                        topic = f"the {TOWNS[(f + a) % len(TOWNS)]} bypass, stage {f}.{a}, " \
                                f"in {host.outlet}"
                        title = f"Works on {topic}"
                        paragraphs = report_paragraphs(topic)
                    host.routes[path] = (article_html(title, paragraphs, when, "Staff",
                                                      host.outlet, url),
                                         "text/html; charset=utf-8")
                    items.append({"title": title, "link": url, "guid": url,
                                  "published": when})
                    self.articles.append(url)
                feed = f"/feeds/{f}.xml"
                host.routes[feed] = (rss_feed(host.outlet, host.base, items),
                                     "application/rss+xml")
                self.feeds.setdefault(host.outlet, []).append(host.base + feed)

    @property
    def sources(self) -> int:
        return sum(len(v) for v in self.feeds.values())

    def sources_toml(self, interval_minutes: float = 60) -> str:
        lines = ["allow_private_addresses = true", ""]
        for outlet, feeds in self.feeds.items():
            lines += ["[[outlets]]", f'name = "{outlet}"',
                      "feeds = [" + ", ".join(f'"{u}"' for u in feeds) + "]",
                      f"interval_minutes = {interval_minutes}", ""]
        return "\n".join(lines)

    def max_in_flight(self) -> dict[str, int]:
        """Per host, the most requests it was serving at one moment."""
        found: dict[str, int] = {}
        by_host: dict[str, list[Hit]] = {}
        for hit in list(self.log):
            by_host.setdefault(hit.host, []).append(hit)
        for host, hits in by_host.items():
            events = sorted([(h.start, 1) for h in hits] + [(h.end, -1) for h in hits],
                            key=lambda e: (e[0], e[1]))  # an end before a start at a tie
            level = peak = 0
            for _, step in events:
                level += step
                peak = max(peak, level)
            found[host] = peak
        return found

    def close(self) -> None:
        for host in self.hosts:
            host.server.shutdown()
            host.server.server_close()


class Role:
    """`backchannel run --role ROLE` as a child process, its output in a log file."""

    def __init__(self, role: str, env: dict[str, str], sources: Path, log: Path) -> None:
        self.role = role
        self.port = free_port()
        self.log_path = log
        self.output = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backchannel", "run", "--role", role,
             "--sources", str(sources)],
            env={**env, "BACKCHANNEL_HEALTH_PORT": str(self.port)}, cwd=ROOT,
            stdout=self.output, stderr=subprocess.STDOUT)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 40) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        finally:
            self.output.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        if not self.output.closed:
            self.output.close()
