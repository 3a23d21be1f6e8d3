"""Hostile servers and bodies for the reliability tests: XML bombs, a gzip bomb, endless
and trickling responses, huge pages; a newsroom site bound to any local address; and a
crawl run whose peak memory is measured."""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import psutil
from conftest import ROOT
from newsroom import Newsroom, QuietServer, Route, Site

# Handlers that stream give up after this long whatever the client does, so that no
# server thread outlives its test for long.
HANDLER_LIMIT = 30.0


# --- a site on another local address --------------------------------------------------

class HostSite(Site):
    """A newsroom site listening on `host` (127.0.0.5, or this machine's own address)
    rather than 127.0.0.1."""

    def __init__(self, name: str, newsroom: Newsroom, host: str) -> None:
        super().__init__(name, newsroom)
        handler = self.server.RequestHandlerClass
        self.close()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET

        class Server(QuietServer):
            address_family = family

        self.host = host
        self.server = Server((host, 0), handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def host_site(newsroom: Newsroom, name: str, host: str) -> HostSite:
    site = newsroom.sites[name] = HostSite(name, newsroom, host)
    return site


def outbound_address() -> str | None:
    """This machine's address towards the internet (a UDP socket 'connected' to a
    public address sends nothing), None when it has no route or only loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never answered, never sent to
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


# --- bodies -------------------------------------------------------------------------

def billion_laughs() -> bytes:
    levels = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)]
    return ('<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(levels) + "\n]>\n"
            '<rss version="2.0"><channel><title>&lol9;</title><link>http://a.example/</link>'
            "<item><title>&lol9;</title><link>http://a.example/laughs.html</link>"
            "<description>&lol9;</description></item></channel></rss>").encode()


def xxe_feed(link: str, target: str = "file:///etc/passwd") -> bytes:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY x SYSTEM "{target}">]>\n'
            '<rss version="2.0"><channel><title>&x;</title><link>http://a.example/</link>'
            f"<item><title>Secrets &x;</title><link>{escape(link)}</link>"
            "<description>&x;</description></item></channel></rss>").encode()


_BOMBS: dict[int, bytes] = {}


def gzip_bomb(inflated: int = 1 << 30) -> bytes:
    """A gzip body of about a megabyte that inflates to `inflated` bytes of zeros (a
    whole number of MiB). Built from one compressed MiB: after a full flush deflate
    starts afresh, so every further MiB compresses to the same bytes."""
    if inflated not in _BOMBS:
        block = bytes(1 << 20)
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate
        chunk = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
        blocks = inflated >> 20
        crc = 0
        for _ in range(blocks):
            crc = zlib.crc32(block, crc)
        _BOMBS[inflated] = (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + chunk * blocks
                            + packer.flush(zlib.Z_FINISH)
                            + struct.pack("<II", crc, inflated & 0xFFFFFFFF))
    return _BOMBS[inflated]


def plain_page(title: str, paragraphs: list[str], extra_head: str = "") -> str:
    """An article page without any date, so that the feed's date is the one used."""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title>{extra_head}</head><body><main><article>"
            f"<h1>{escape(title)}</h1>{body}</article></main></body></html>")


def rss(title: str, link: str, items: list[dict], prolog: str = "") -> bytes:
    """RSS whose items take raw strings: `link`, optional `guid`, `date` (a string,
    used as is) and `title`."""
    entries = "".join(
        f"<item><title>{escape(i.get('title', 'Item'))}</title>"
        f"<link>{escape(i['link'])}</link>"
        + (f"<guid isPermaLink=\"false\">{escape(i['guid'])}</guid>" if i.get("guid") else "")
        + (f"<pubDate>{escape(i['date'])}</pubDate>" if i.get("date") else "")
        + "</item>" for i in items)
    return (f'<?xml version="1.0" encoding="utf-8"?>{prolog}<rss version="2.0"><channel>'
            f"<title>{escape(title)}</title><link>{escape(link)}</link>{entries}"
            "</channel></rss>").encode()


def rfc822(when: datetime) -> str:
    return format_datetime(when)


# --- hostile handlers (Route(handler=...)) ----------------------------------------------

def _alive(started: float) -> bool:
    return time.monotonic() - started < HANDLER_LIMIT


def endless(content_type: str = "text/html", pause: float = 0.05):
    """A chunked body that never ends: a kilobyte every `pause` seconds."""
    def handler(request: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        try:
            request.send_response(200)
            request.send_header("Content-Type", content_type)
            request.send_header("Transfer-Encoding", "chunked")
            request.end_headers()
            chunk = b"<p>" + b"more " * 200 + b"</p>\n"
            while _alive(started):
                request.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                request.wfile.flush()
                time.sleep(pause)
        except OSError:
            pass
        request.close_connection = True
    return handler


def slowloris(interval: float = 1.5, in_headers: bool = False):
    """A response that trickles: one byte every `interval` seconds, in the body (after
    the headers) or in the headers themselves."""
    def handler(request: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        try:
            if in_headers:
                request.wfile.write(b"HTTP/1.1 200 OK\r\n")
                request.wfile.flush()
                trickle = b"X-Slow: " + b"a" * 1000
            else:
                request.send_response(200)
                request.send_header("Content-Type", "text/html")
                request.send_header("Content-Length", "100000")
                request.end_headers()
                trickle = b"<html>" + b" " * 100000
            for byte in trickle:
                if not _alive(started):
                    break
                request.wfile.write(bytes([byte]))
                request.wfile.flush()
                time.sleep(interval)
        except OSError:
            pass
        request.close_connection = True
    return handler


def huge(size: int, content_type: str = "text/html", declare_length: bool = True):
    """A `size`-byte page streamed from a small block (never held in memory), with or
    without a Content-Length."""
    def handler(request: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        block = (b"<p>" + b"word " * 2000 + b"</p>\n")
        try:
            request.send_response(200)
            request.send_header("Content-Type", content_type)
            if declare_length:
                request.send_header("Content-Length", str(size))
            else:
                request.send_header("Connection", "close")
            request.end_headers()
            sent = 0
            while sent < size and _alive(started):
                part = block[: size - sent]
                request.wfile.write(part)
                sent += len(part)
        except OSError:
            pass
        request.close_connection = True
    return handler


def redirect(location: str, status: int = 302) -> Route:
    return Route(status=status, headers={"Location": location}, content_type="text/plain")


# --- running a crawl and measuring it -------------------------------------------------------

@dataclass
class CrawlRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss: int  # bytes: the largest resident set of the crawl process

    @property
    def failed_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("FAILED")]

    @property
    def log(self) -> str:
        """stderr with each JSON log line as `message [url] [source]`, decoded."""
        lines = []
        for line in self.stderr.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                lines.append(line)
                continue
            if isinstance(record, dict):
                lines.append(" ".join(str(record[k]) for k in ("message", "url", "source")
                                      if record.get(k)))
        return "\n".join(lines)


def run_crawl(args: list[str], env: dict[str, str], timeout: float = 240.0) -> CrawlRun:
    """`backchannel ARGS` in a child process, as run_cli does, sampling its resident
    memory with psutil (and taking the kernel's own peak from wait4 at the end)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        child = subprocess.Popen([sys.executable, "-m", "backchannel", *args], env=env,
                                 stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT)
        process = psutil.Process(child.pid)
        peak = 0
        while True:
            try:
                peak = max(peak, process.memory_info().rss)
            except psutil.Error:
                pass
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                child.returncode = os.waitstatus_to_exitcode(status)
                peak = max(peak, usage.ru_maxrss * 1024)  # kilobytes on Linux
                break
            if time.monotonic() - started > timeout:
                child.kill()
                child.wait()
                raise AssertionError(f"crawl still running after {timeout:.0f} s")
            time.sleep(0.05)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return CrawlRun(child.returncode, out.read().decode("utf-8", "replace"),
                        err.read().decode("utf-8", "replace"), seconds, peak)


def stand_in_public_address(tmp: Path, public: str = "127.0.0.5",
                            rebind: dict[str, str] | None = None) -> str:
    """A PYTHONPATH entry whose sitecustomize makes the crawl child take `public` for a
    public address (a stand-in for a real outlet's server, which tests cannot reach),
    everything else keeping its real class. `rebind` maps host names to the address the
    connection's own lookup gets, while the guard's lookup gets a public address: DNS
    rebinding. Returns the folder to put first on PYTHONPATH."""
    folder = tmp / "stand-in"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(f'''
import socket
import struct

import crawler.netguard as netguard

_real_is_public = netguard.is_public_ip
_real_resolve = netguard.resolve
_real_gethostbyname = socket.gethostbyname
_REBIND = {rebind or {}!r}


def is_public_ip(address):
    return address == {public!r} or _real_is_public(address)


def resolve(host, port=None):
    if host in _REBIND:
        return ["93.184.216.34"]  # what the guard is told: a public address
    return _real_resolve(host, port)


def gethostbyname(name):
    return _REBIND.get(name) or _real_gethostbyname(name)


netguard.is_public_ip = is_public_ip
netguard.resolve = resolve
socket.gethostbyname = gethostbyname
''', encoding="utf-8")
    return str(folder)
