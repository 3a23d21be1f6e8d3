"""Helpers for the fault tests (test_faults.py): contact stories written for them, slow
pages and feeds, a PostgreSQL server of the test's own that can be restarted, a small
file system that can be filled, and receivers that fail the way real ones do."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from newsroom import Route, Site, article_html, report_paragraphs, rss_feed
from receivers import HttpReceiver, SmtpReceiver

# --- contact stories ------------------------------------------------------------------
# Eight invented contacts, each with its own people, place and subject, three weeks
# apart, so that no two of them can be one story. Each outlet tells a story in its own
# words: a lead of its own, then the story's facts in its own order.


@dataclass(frozen=True)
class Contact:
    key: str
    title: str
    facts: tuple[str, ...]  # sentences about this contact; every outlet uses most of them


CONTACTS = [
    Contact("black-sea", "Putin and Trump said to have discussed a Black Sea truce", (
        "Vladimir Putin and Donald Trump spoke by telephone about a ceasefire in the Black "
        "Sea, according to two people familiar with the conversation.",
        "Kremlin spokesman Dmitry Peskov declined to confirm that the presidents had talked.",
        "The White House did not respond to requests for comment on the reported call.",
        "The people said grain shipments from Odesa and the safety of merchant crews in the "
        "shipping lanes took up most of the hour.",
        "Insurers in London have been waiting for any sign that the naval clashes might "
        "ease before cutting their war-risk premiums.",
    )),
    Contact("riyadh-embassies", "Lavrov and Rubio reported to have met in Riyadh", (
        "Sergei Lavrov and Marco Rubio reportedly held a closed meeting in Riyadh, "
        "according to a regional diplomat, though neither ministry has confirmed it.",
        "Neither ministry has acknowledged the meeting, and a State Department spokesperson "
        "declined to say whether it happened.",
        "The diplomat said the foreign ministers argued over embassy staffing, visas for "
        "diplomats and the seized dacha compounds in Maryland and New York.",
        "Saudi officials had quietly booked a guest palace near the Diriyah gate for the day.",
        "The Russian foreign ministry referred questions to its earlier statements.",
    )),
    Contact("istanbul-fertilizer", "Witkoff and Dmitriev said to have talked in Istanbul", (
        "Steve Witkoff met Kirill Dmitriev in Istanbul to discuss sanctions relief for "
        "fertilizer exports, three people briefed on the talks said.",
        "Neither the White House nor the Kremlin has confirmed that the envoys met.",
        "Potash and ammonia shipments through the Baltic ports were the main subject, the "
        "people said, along with payments through a Turkish bank.",
        "A spokesman for the envoy declined to comment on the Istanbul talks.",
        "Farm lobby groups in Iowa have pressed for cheaper nitrogen fertilizer all spring.",
    )),
    Contact("prisoner-swap", "Ushakov and Waltz reportedly discussed a prisoner swap", (
        "Yuri Ushakov and Mike Waltz discussed a prisoner exchange in a phone call, "
        "according to officials familiar with the matter.",
        "The Kremlin aide's office did not confirm the call, and the National Security "
        "Council declined to comment.",
        "A jailed schoolteacher from Pennsylvania and two Russian hackers held in "
        "California were named as possible candidates for the swap.",
        "Families of the detained Americans said they had heard nothing official.",
        "Lawyers for the hackers said a transfer could take weeks to arrange in court.",
    )),
    Contact("geneva-arms", "Patrushev and Sullivan said to have met on arms control", (
        "Nikolai Patrushev and Jake Sullivan met secretly in Geneva about nuclear arms "
        "control, two western officials said on condition of anonymity.",
        "Neither government has acknowledged the meeting.",
        "The officials said warhead ceilings, missile inspections and the expiry of the "
        "last treaty limits were on the table at a lakeside villa.",
        "Swiss police closed a stretch of the quay for several hours that afternoon.",
        "Arms control experts said any contact at that level would be a notable signal.",
    )),
    Contact("syria-deconfliction", "Belousov and Hegseth said to have spoken on Syria", (
        "Andrei Belousov and Pete Hegseth spoke by phone about military deconfliction over "
        "Syria, according to people familiar with the call.",
        "The Pentagon declined to confirm the conversation, and the Russian defence "
        "ministry did not respond.",
        "The people said a near miss between fighter jets over the Euphrates valley "
        "prompted the call, and that the hotline procedures were reviewed.",
        "Air force officers at the Hmeimim base were said to have been briefed afterwards.",
        "Regional analysts said the defence chiefs had not spoken for over a year.",
    )),
    Contact("abu-dhabi-hostages", "Naryshkin and Ratcliffe reported to have met", (
        "Sergei Naryshkin and John Ratcliffe reportedly met in Abu Dhabi to discuss "
        "hostages held in the Sahel, according to an unconfirmed account by a Gulf official.",
        "The CIA declined to comment, and Russia's foreign intelligence service has not "
        "confirmed any meeting.",
        "Two aid workers kidnapped near Timbuktu and a pilot missing since the winter "
        "were said to be the subject, though nobody would say so on the record.",
        "Emirati mediators have arranged several quiet exchanges between rival services.",
        "The families of the aid workers appealed again this week for news of them.",
    )),
    Contact("baku-arctic", "Kushner and Dmitriev said to have discussed Arctic gas", (
        "Jared Kushner and Kirill Dmitriev reportedly discussed joint Arctic gas projects "
        "at a dinner in Baku, according to two businessmen, though the talks have not "
        "been confirmed.",
        "The Kremlin declined to comment on the reports of the Baku dinner.",
        "Liquefied gas terminals on the Yamal peninsula and icebreaker tankers were "
        "allegedly on the menu as well.",
        "Energy traders in Singapore reacted cautiously to the reports.",
        "Sanctions lawyers said such projects would need waivers from the Treasury.",
    )),
]

OUTLET_LEADS = {  # an outlet's own opening and closing, around the story's facts
    "Harbor Ledger": ("Our correspondents have learned of another quiet contact between "
                      "Moscow and Washington.", "Harbor Ledger will update this report."),
    "Prairie Courier": ("Reports of a new back-channel contact between Russia and the "
                        "United States emerged this week.",
                        "The Prairie Courier asked both embassies for comment."),
    "Summit Observer": ("A fresh round of unannounced diplomacy between the two capitals "
                        "has come to light.",
                        "Summit Observer could not independently verify the account."),
    "Delta Gazette": ("Sources describe yet another discreet encounter, far from the "
                      "cameras.",
                      "The Delta Gazette will follow the story as it develops."),
}
OUTLETS = list(OUTLET_LEADS)
FIRST_CONTACT = datetime.fromisoformat("2025-05-01T08:00:00+00:00")


def contact_paragraphs(contact: Contact, outlet: str) -> list[str]:
    """The outlet's version: its lead, the story's facts rotated by the outlet, its
    closing line."""
    turn = OUTLETS.index(outlet) % len(contact.facts)
    facts = list(contact.facts[turn:] + contact.facts[:turn])
    facts.remove(contact.facts[0])  # the key fact (both people) always opens the story
    lead, close = OUTLET_LEADS[outlet]
    return [lead + " " + contact.facts[0], *facts, close]


FILLER_WORDS = (
    "market council river weather budget school harbour tram bridge festival library "
    "museum theatre stadium orchestra bakery ferry garden parking bicycle election "
    "farmer harvest rainfall teacher hospital nurse bus station timetable concert "
    "minister village county road repair summer winter autumn spring ticket price "
    "report figure committee meeting resident neighbour shop street square fountain "
    "painting exhibition season match goal coach player referee crowd morning evening "
    "weekend holiday tourist hotel restaurant menu chef kitchen recipe apple bread "
    "cheese coffee tea water power grid wind solar panel roof window door tower clock"
).split()


def filler_paragraphs(seed: str, count: int) -> list[str]:
    """Paragraphs of English words in an order no other page shares: bulk that
    compresses poorly and names no one."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(FILLER_WORDS) for _ in range(60)).capitalize() + "."
            for _ in range(count)]


def contact_time(index: int, outlet: str) -> datetime:
    """Three weeks between contacts; the outlets report within a day."""
    return FIRST_CONTACT + timedelta(days=21 * index, hours=3 * OUTLETS.index(outlet) + 1)


def contact_path(contact: Contact, outlet: str) -> str:
    return f"/news/{contact.key}-{outlet.split()[0].lower()}.html"


class Publisher:
    """Each outlet's articles and RSS feed (newest first, at most `feed_size` entries),
    published one at a time. Article pages wait `page_delay` seconds before they
    answer (or `page_delays[outlet]`), feeds `feed_delay[outlet]`."""

    def __init__(self, sites: dict[str, Site], page_delay: float = 0.0,
                 feed_delay: dict[str, float] | None = None, feed_size: int = 50,
                 bulky: bool = False, page_delays: dict[str, float] | None = None) -> None:
        self.sites = sites
        self.bulky = bulky  # contact articles end with a long column of other news
        self.page_delay = page_delay
        self.page_delays = page_delays or {}
        self.feed_delay = feed_delay or {}
        self.feed_size = feed_size
        self.items: dict[str, list[dict]] = {name: [] for name in sites}
        self.urls: list[str] = []
        self.contact_urls: list[str] = []
        for outlet in sites:  # a feed from the start, empty until the first article
            self.feed(outlet)

    def contact(self, index: int, outlet: str) -> str:
        contact = CONTACTS[index]
        paragraphs = contact_paragraphs(contact, outlet)
        if self.bulky:
            paragraphs += filler_paragraphs(f"{contact.key}/{outlet}", 40)
        return self._publish(outlet, contact_path(contact, outlet), contact.title,
                             paragraphs, contact_time(index, outlet), contact=True)

    def routine(self, outlet: str, number: int) -> str:
        topic = ["the harbour bridge", "the city budget", "the new tram line",
                 "the school year", "the river festival", "the football stadium"][number % 6]
        title = f"{topic.capitalize()}: update {number}"
        at = FIRST_CONTACT + timedelta(days=number, hours=OUTLETS.index(outlet))
        return self._publish(outlet, f"/local/update-{number}.html", title,
                             report_paragraphs(f"{topic} ({outlet}, update {number})"), at)

    def _publish(self, outlet: str, path: str, title: str, paragraphs: list[str],
                 at: datetime, contact: bool = False) -> str:
        site = self.sites[outlet]
        url = site.url(path)
        body = article_html(title, paragraphs, at, "Staff", outlet, url)
        site.routes[path] = slow(Route(body), self.page_delays.get(outlet, self.page_delay))
        self.items[outlet].insert(0, {"title": title, "link": url, "guid": path,
                                      "published": at})
        self.feed(outlet)
        self.urls.append(url)
        if contact:
            self.contact_urls.append(url)
        return url


    def feed(self, outlet: str) -> None:
        """Serve the outlet's feed as it stands (after a change of `feed_delay`)."""
        site = self.sites[outlet]
        feed = rss_feed(outlet, site.base, self.items[outlet][:self.feed_size])
        site.routes["/rss.xml"] = slow(Route(feed, content_type="application/rss+xml",
                                             conditional=True),
                                       self.feed_delay.get(outlet, 0.0))


def slow(route: Route, delay: float) -> Route:
    """The same route, answered after `delay` seconds (a busy site)."""
    if delay <= 0:
        return route

    def handler(request) -> None:
        time.sleep(delay)
        headers, status = dict(route.headers), route.status
        if route.conditional:
            headers.setdefault("ETag", '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"')
            if request.headers.get("If-None-Match") == headers["ETag"]:
                status = 304
        headers.setdefault("Content-Type", route.content_type)
        Site._send(request, status, b"" if status == 304 else route.body, headers)

    return Route(route.body, route.status, route.content_type, route.headers,
                 route.conditional, handler=handler)


# --- a PostgreSQL server of the test's own ------------------------------------------

class OwnServer:
    """A PostgreSQL server (the machine's binaries through archive.embedded's
    system_server_url) in a folder outside pytest's temp root, listening on a Unix
    socket there; stopped and started at will, removed at the end."""

    def __init__(self) -> None:
        from archive.embedded import _with_database, find_postgres_bindir, system_server_url

        if find_postgres_bindir() is None:
            raise LookupError("no PostgreSQL binaries (initdb, pg_ctl) on this machine")
        self.base = Path(tempfile.mkdtemp(prefix="backchannel-faults-pg-"))
        self._start = lambda: system_server_url(self.base)
        self.url = _with_database(self._start())

    def database(self, name: str) -> str:
        """A URL to a new, empty database `name` on this server."""
        import psycopg
        from psycopg.conninfo import make_conninfo

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return make_conninfo(self.url, dbname=name)

    def stop(self, mode: str = "fast") -> None:
        from archive.embedded import _run_as, find_postgres_bindir

        user = "postgres" if os.geteuid() == 0 else None
        result = _run_as(user, [str(find_postgres_bindir() / "pg_ctl"), "-D",
                                str(self.base / "data"), "-m", mode, "-w", "stop"], timeout=60)
        assert result.returncode == 0, result.stderr

    def start(self) -> None:
        self._start()

    def close(self) -> None:
        from archive.embedded import stop_system_server

        stop_system_server(self.base)
        shutil.rmtree(self.base, ignore_errors=True)


# --- a small file system --------------------------------------------------------------

class SmallDisk:
    """A tmpfs of `megabytes` mounted on a fresh folder outside pytest's temp root
    (root only). `fill()` takes every free byte; `free()` gives them back."""

    def __init__(self, megabytes: int) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="backchannel-faults-disk-"))
        os.chmod(self.path, 0o755)
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0755",
                                 "tmpfs", str(self.path)], capture_output=True, text=True)
        if result.returncode != 0:
            os.rmdir(self.path)
            raise PermissionError(result.stderr.strip() or "mount failed")
        self.filler = self.path / "filler"

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (1 << 20, 1 << 12):
                block = b"\1" * size
                try:
                    while os.write(fd, block):
                        pass
                except OSError:
                    pass
        finally:
            os.close(fd)

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.path).free

    def release(self) -> None:
        self.filler.unlink(missing_ok=True)

    def close(self) -> None:
        for proc in _processes_under(self.path):  # a server left running on it
            try:
                os.kill(proc, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for _ in range(50):
            if subprocess.run(["umount", str(self.path)], capture_output=True).returncode == 0:
                break
            time.sleep(0.2)
        shutil.rmtree(self.path, ignore_errors=True)


def _processes_under(path: Path) -> list[int]:
    """Processes whose command line names `path` (a postgres -D PATH…)."""
    import psutil

    found = []
    for proc in psutil.process_iter(attrs=["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(path) in cmdline and proc.info["pid"] != os.getpid():
            found.append(proc.info["pid"])
    return found


# --- receivers that fail in more ways ---------------------------------------------------

class FaultySmtp(SmtpReceiver):
    """SmtpReceiver with more replies to DATA: 'drop' reads the whole message and closes
    the connection without answering; 'slow:S' accepts (records) the message and
    answers 250 only S seconds later. `quit_reply` answers QUIT ('hang' holds it)."""

    def __init__(self, *args, **kwargs) -> None:
        self.quit_reply: str | None = None
        super().__init__(*args, **kwargs)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        reply = self.replies[0] if self.replies else ""
        if reply == "drop":
            self.replies.pop(0)
            self.attempts += 1
            server.transport.close()
            return "421 dropped"
        if reply.startswith("slow:"):
            self.replies.pop(0)
            self.replies.insert(0, "250 OK")
            answer = await super().handle_DATA(server, session, envelope)
            await asyncio.sleep(float(reply.split(":", 1)[1]))
            return answer
        return await super().handle_DATA(server, session, envelope)

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802
        if self.quit_reply == "hang":
            while not self._release.is_set():
                await asyncio.sleep(0.05)
        return self.quit_reply or "221 Bye"


class SlowSmtp(SmtpReceiver):
    """Records each message, then waits `delay` seconds before it answers 250: a kill
    in between is the one window in which a message is sent twice. `answering` counts
    the messages recorded and not yet answered."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.answering = 0
        super().__init__()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        self.answering += 1
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.answering -= 1
        return answer


def delay_answers(receiver: HttpReceiver, delay: float, times: int | None = None,
                  ) -> HttpReceiver:
    """Make `receiver`'s 2xx answers leave `delay` seconds after the post was recorded
    as accepted (the first `times` of them; all when None). `receiver.answering` counts
    the posts accepted and not yet answered."""
    handler = receiver.server.RequestHandlerClass
    original = handler.send_response
    left = [times]
    receiver.answering = 0

    def send_response(self, code, message=None) -> None:
        if 200 <= code < 300 and left[0] != 0:
            if left[0] is not None:
                left[0] -= 1
            with receiver.lock:
                receiver.answering += 1
            try:
                time.sleep(delay)
            finally:
                with receiver.lock:
                    receiver.answering -= 1
        original(self, code, message)

    handler.send_response = send_response
    return receiver


class RawHttpServer:
    """A one-thread loopback server that answers every request with `respond(conn,
    request_bytes)`: for answers no HTTP library would send."""

    def __init__(self, respond) -> None:
        self.respond = respond
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests: list[bytes] = []
        self._closed = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            conn.settimeout(5)
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                while len(body) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    body += chunk
                self.requests.append(head + b"\r\n\r\n" + body)
                self.respond(conn, len(self.requests))
            except OSError:
                pass

    def close(self) -> None:
        self._closed = True
        self.sock.close()


# --- alerts in the outbox, as the crawl leaves them ------------------------------------

def queue_alerts(conn, channels: list[str], n: int, outlet: str = OUTLETS[0]) -> list[int]:
    """One alert each for the first `n` contacts, reported by `outlet`, written the way
    the pipeline writes them (article, story and outbox in one transaction)."""
    from alerts.outbox import Outbox
    from alerts.rules import Rule
    from archive.store import ArticleRecord, store_article
    from archive.stories import assign_story

    outbox = Outbox(rules=[Rule()], channels=channels)
    created = []
    for index, contact in enumerate(CONTACTS[:n]):
        with conn.transaction():
            stored = store_article(conn, ArticleRecord(
                url=f"https://{outlet.split()[0].lower()}.example{contact_path(contact, outlet)}",
                outlet=outlet, title=contact.title,
                text="\n".join(contact_paragraphs(contact, outlet)),
                published_at=contact_time(index, outlet), language="en",
                contact_story=True, call_status="unconfirmed", evidence=contact.facts[0],
                classifier_version="test"))
            created += outbox.record(conn, assign_story(conn, stored.article_id))
    assert len(created) == n
    return created
