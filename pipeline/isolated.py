"""`process` in a child process with a time budget per page. Extraction is pure Python
over a stranger's bytes: a hostile page (a million paragraphs) once held the crawl's
one thread for half an hour, and a thread cannot be stopped. A child process can: when
a page runs past its budget, or the pass is stopping, the child is killed and a new one
takes the next page. Such a page fails for a reason of ours and is retried next pass.
One pool of workers, a child per core by default, serves the whole process
(`shared_pool`): pages are read side by side on every core while the crawl's own thread
fetches and stores; the daemon's passes reuse the children, and a pass without pages
starts none.

The children are forked from a server process (multiprocessing's forkserver, never a
fork of the threaded reactor) that imported the extractor and the classifier, compiled
the cues and loaded the language model once (pipeline.preload): a child is ready in
milliseconds instead of a second of CPU for each, at every start and after every kill.
At exit the children and then the server are waited for, so that their CPU time is
this process's children's (what bench/load_pass.py counts), not an orphan's."""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection

from archive.store import ArticleRecord
from extract.outlets import OutletDirectory
from pipeline.page import FetchedPage, NotAnArticle

log = logging.getLogger(__name__)

PAGE_TIMEOUT = 30.0  # seconds of extraction and classification a page may take
START_TIMEOUT = 120.0  # a new child's imports (trafilatura, the classifier) on a busy machine
POLL = 0.2  # how often a waiting page looks whether the pass is stopping
CHILD_NAME = "backchannel-extract"
PRELOAD = "pipeline.preload"  # imported by the fork server: the children inherit it


@dataclass
class ReadPage:
    """What a child makes of a page: the classified article (its raw page is the
    parent's own) and, for an official outlet, its stance (Processed.stance). Not the
    classifier's Classification, whose unpickling would import the classifier into the
    crawl's process, which does not otherwise need it."""

    article: ArticleRecord
    stance: str | None


class PageBudgetExceeded(Exception):
    """The page was not processed for a reason of ours (its time ran out, the worker
    died, the pass stopped): the page is fine to fetch again later."""


def _never() -> bool:
    return False


class PageWorker:
    """One child process running `process` for one page at a time (callers take turns),
    started at the first page and again after it had to be killed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._child: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._ready = False
        self._directory: OutletDirectory | None = None  # the one the child holds

    def process(self, page: FetchedPage, directory: OutletDirectory,
                timeout: float = PAGE_TIMEOUT,
                stopping: Callable[[], bool] = _never) -> ReadPage:
        """`process(page, directory.outlet_for)` in the child, within `timeout` seconds.
        Raises NotAnArticle as `process` does, and PageBudgetExceeded when the page
        could not be done: its time ran out, or `stopping()` said the pass is being
        stopped (the page is then given up at once, not at the end of its budget)."""
        with self._lock:
            if self._child is None:
                self._spawn()
            self._wait_ready(stopping)
            body = page.body
            # The directory goes once per child (it is the pass's, the same for every
            # page): pickled with each page it was a tenth of the pipe's cost.
            known = directory is self._directory
            self._conn.send((page, None if known else directory))
            self._directory = directory
            started = time.monotonic()
            while not self._conn.poll(POLL):
                if stopping():
                    self._kill()
                    raise PageBudgetExceeded("the pass stopped before the page was read")
                if time.monotonic() - started > timeout:
                    self._kill()
                    raise PageBudgetExceeded(f"reading the page took longer than "
                                             f"{timeout:g} s")
                if not self._child.is_alive():
                    break
            answer = self._receive()
        kind, value = answer
        if kind == "ok":
            value.article.raw_page = body  # not sent back: the parent has it
            return value
        if kind == "not":
            raise NotAnArticle(value)
        if kind == "limit":
            raise PageBudgetExceeded(value)
        raise RuntimeError(value)  # a bug in processing, named as the child saw it

    def close(self) -> None:
        with self._lock:
            self._kill()

    def _spawn(self) -> None:
        context = _context()
        parent, child = context.Pipe()
        self._child = context.Process(target=_serve, args=(child,), name=CHILD_NAME,
                                      daemon=True)
        try:
            self._child.start()  # the first start waits for the server's preloading
        except (OSError, EOFError) as exc:  # the server could not start or died
            parent.close()
            self._child = None
            raise PageBudgetExceeded(f"the extraction process did not start: {exc}") from None
        finally:
            child.close()
        self._conn, self._ready = parent, False

    def _wait_ready(self, stopping: Callable[[], bool]) -> None:
        if self._ready:
            return
        deadline = time.monotonic() + START_TIMEOUT
        while not self._conn.poll(POLL):
            if stopping() or time.monotonic() > deadline or not self._child.is_alive():
                self._kill()
                raise PageBudgetExceeded("the extraction process did not start")
        self._receive()
        self._ready = True

    def _receive(self) -> tuple[str, object]:
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            code = self._child.exitcode if self._child else None
            self._kill()
            raise PageBudgetExceeded(f"the extraction process died (exit status {code}; "
                                     "out of memory?)") from None

    def _kill(self) -> None:
        if self._child is not None:
            if self._child.is_alive():
                self._child.kill()
            self._child.join(5)
            self._conn.close()
        self._child, self._conn, self._ready, self._directory = None, None, False, None


class WorkerPool:
    """`size` PageWorkers; each page goes to an idle one (callers wait for one)."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._idle: queue.SimpleQueue[PageWorker] = queue.SimpleQueue()
        for _ in range(self.size):
            self._idle.put(PageWorker())

    def process(self, page: FetchedPage, directory: OutletDirectory,
                timeout: float = PAGE_TIMEOUT,
                stopping: Callable[[], bool] = _never) -> ReadPage:
        """As PageWorker.process, on the first worker free."""
        worker = self._idle.get()
        try:
            return worker.process(page, directory, timeout, stopping)
        finally:
            self._idle.put(worker)


def pool_size(wanted: int) -> int:
    """`extract_processes`: 0 means one child per core this process may use."""
    if wanted > 0:
        return wanted
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


_shared: WorkerPool | None = None
_shared_lock = threading.Lock()
_stop_registered = False


def _context() -> multiprocessing.context.BaseContext:
    """The forkserver context, its server preloading PRELOAD; stopped at exit."""
    global _stop_registered
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([PRELOAD])  # read when the server starts
    with _shared_lock:
        if not _stop_registered:
            atexit.register(stop_children)  # runs before multiprocessing's own exit hook
            _stop_registered = True
    return context


def stop_children() -> None:
    """Kill the extraction children, then stop the fork server and wait for it. The
    server is the children's parent: until it is reaped, their CPU time and its own
    are nobody's, and the server would outlive this process."""
    for child in multiprocessing.active_children():
        if child.name == CHILD_NAME:
            child.kill()
            child.join(5)
    server = multiprocessing.forkserver._forkserver
    stop = getattr(server, "_stop", None)  # CPython's own, which its tests use
    if stop is not None:
        stop()


def shared_pool(size: int = 0) -> WorkerPool:
    """This process's pool of `pool_size(size)` workers (children start at their first
    page). The first call fixes its size."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = WorkerPool(pool_size(size))
        return _shared


def _serve(conn: Connection) -> None:
    """The child: pages in, answers out, until the parent hangs up."""
    from extract import ExtractionLimit
    from pipeline.process import process  # the fork server has imported it already

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    root = logging.getLogger()  # the parent logs what happened; libraries stay quiet
    root.handlers[:] = [logging.NullHandler()]
    root.setLevel(logging.CRITICAL)
    if not _answer(conn, ("ready", None)):
        return
    directory: OutletDirectory | None = None
    while True:
        try:
            page, sent = conn.recv()
        except (EOFError, OSError):
            return
        directory = sent or directory
        try:
            processed = process(page, directory.outlet_for)
            processed.article.raw_page = b""
            answer: tuple[str, object] = ("ok", ReadPage(processed.article,
                                                         processed.stance()))
        except NotAnArticle as exc:
            answer = ("not", str(exc))
        except ExtractionLimit as exc:
            answer = ("limit", str(exc))
        except RecursionError:
            answer = ("limit", "page nested too deeply to be read")
        except MemoryError:
            answer = ("limit", "page too large to be read in memory")
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which goes on
            answer = ("error", f"{type(exc).__name__}: {exc}")
        if not _answer(conn, answer):
            return


def _answer(conn: Connection, answer: tuple[str, object]) -> bool:
    """Send to the parent; False when it has hung up (a crawl stopped or killed while
    this child started or worked), which ends the child quietly, with no traceback."""
    try:
        conn.send(answer)
    except OSError:  # BrokenPipeError, ConnectionResetError
        return False
    return True
