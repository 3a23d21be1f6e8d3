"""The extraction children (pipeline.isolated): forked ready from a server that loaded
the extractor and classifier once, a page past its budget killed alone with the next
page read by a new child, and nothing left running (or unaccounted) at the end."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from extract.outlets import OutletDirectory
from pipeline.isolated import PageBudgetExceeded, PageWorker, stop_children
from pipeline.page import FetchedPage
from pipeline.preload import WARM_UP_PAGE

ROOT = Path(__file__).resolve().parents[2]

URL = "http://127.0.0.1:9/ferry.html"
SLOW = (b"<html><head><title>Slow</title></head><body>"
        + b"<p>slow words</p>" * 120_000 + b"</body></html>")


def page(body: bytes, url: str = URL) -> FetchedPage:
    return FetchedPage(url=url, final_url=url, status=200,
                       content_type="text/html; charset=utf-8", body=body)


def fork_servers() -> list[psutil.Process]:
    """This process's descendants that are the fork server or forked from it."""
    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            if "multiprocessing.forkserver" in " ".join(process.cmdline()):
                found.append(process)
        except psutil.NoSuchProcess:
            pass
    return found


@pytest.fixture
def worker():
    worker = PageWorker()
    yield worker
    worker.close()
    stop_children()


def child_cpu(worker: PageWorker) -> float:
    times = psutil.Process(worker._child.pid).cpu_times()
    return times.user + times.system


def test_a_hanging_page_is_killed_alone_and_the_next_child_starts_ready(worker):
    directory = OutletDirectory([("Ferry News", ["127.0.0.1:9"])])
    first = worker.process(page(WARM_UP_PAGE), directory)
    assert first.article.outlet == "Ferry News" and first.article.language == "en"
    # a forked child inherits the imports, the cues and the language model: a spawned
    # one spent over a second of CPU on them before its first page
    assert child_cpu(worker) < 0.5

    started = time.monotonic()
    with pytest.raises(PageBudgetExceeded, match="longer than 1 s"):
        worker.process(page(SLOW, URL.replace("ferry", "slow")), directory, timeout=1.0)
    assert time.monotonic() - started < 10

    again = worker.process(page(WARM_UP_PAGE), directory)  # a new child, the same pass
    assert again.article.outlet == "Ferry News"
    assert again.article.raw_page == WARM_UP_PAGE
    assert child_cpu(worker) < 0.5


def test_a_new_directory_reaches_the_child(worker):
    worker.process(page(WARM_UP_PAGE), OutletDirectory([("Ferry News", ["127.0.0.1:9"])]))
    renamed = OutletDirectory([("Harbour Daily", ["127.0.0.1:9"])])
    assert worker.process(page(WARM_UP_PAGE), renamed).article.outlet == "Harbour Daily"


def test_stopping_waits_for_the_children_and_their_server(worker):
    worker.process(page(WARM_UP_PAGE), OutletDirectory())
    assert fork_servers()
    stop_children()
    # reaped by this process: nothing keeps running, and their CPU time is counted in
    # this process's children's (what bench/load_pass.py measures)
    assert fork_servers() == []


def test_a_child_whose_crawl_has_gone_ends_quietly():
    # A crawl killed or stopped while a child starts: the child finds the pipe closed
    # when it says it is ready, and must end without printing a traceback, which a
    # user would see in the crawl's log (it was seen in a SIGKILL test).
    script = ("import multiprocessing as mp\n"
              "from pipeline.isolated import _serve\n"
              "ours, theirs = mp.Pipe()\n"
              "ours.close()\n"
              "_serve(theirs)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0
    assert "Traceback" not in done.stderr, done.stderr
