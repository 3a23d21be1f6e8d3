"""Detection latency of `backchannel run`, and its memory over many passes.

Method: a test newsroom (tests/newsroom.py) of N outlets on 127.0.0.1, each with a feed
polled every `--interval` seconds (adaptive intervals off). The daemon runs as a child
process, as users run it, delivering alerts to a real SMTP server (aiosmtpd). Once it
has polled every feed, one item appears in one outlet's feed every 1–3 s (random
order): the same contact story, so each is a new outlet and alerts once. Latency = the
SMTP server's clock on accepting the alert minus the clock when the item appeared.
Resident memory is read from the daemon's own /metrics: once a warm-up item has been
stored and alerted (every library loaded), then 5, 50 and `--passes` passes later.

    .venv/bin/python bench/daemon_latency.py [--items 50] [--interval 10]

Uses BACKCHANNEL_DATABASE_URL if set (a scratch database is created in it), else a
throwaway embedded server.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "alerts")]

from alerting import PHONE_CALL  # noqa: E402  (our own invented report)
from newsroom import Newsroom, Route, article_html, rss_feed, wait_until  # noqa: E402
from receivers import SmtpReceiver, free_port  # noqa: E402
from scratch_db import scratch_database  # noqa: E402


def metric(port: int, name: str) -> float:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return 0.0
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=51, help="outlets (one is the warm-up)")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between polls")
    parser.add_argument("--passes", type=int, default=200, help="run this long for memory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="backchannel-bench-") as tmp, \
            scratch_database(Path(tmp)) as url:
        run(url, Path(tmp), args)


def run(url: str, tmp: Path, args) -> None:
    room, smtp = Newsroom(), SmtpReceiver()
    outlets = [f"Bench Outlet {n:02d}" for n in range(args.items)]
    for outlet in outlets:
        site = room.site(outlet)
        site.routes["/rss.xml"] = Route(rss_feed(outlet, site.base, []),
                                        content_type="application/rss+xml", conditional=True)
    sources = tmp / "sources.toml"
    sources.write_text(room.sources_toml({o: ["/rss.xml"] for o in outlets}).replace(
        "interval_minutes = 5", f"interval_minutes = {args.interval / 60:.4f}"))
    port = free_port()
    env = {**os.environ, "BACKCHANNEL_DATABASE_URL": url, "BACKCHANNEL_HOME": str(tmp / "h"),
           "BACKCHANNEL_TICK_SECONDS": "1", "BACKCHANNEL_ADAPTIVE_INTERVALS": "false",
           "BACKCHANNEL_HEALTH_PORT": str(port), "BACKCHANNEL_DOWNLOAD_DELAY": "0",
           "BACKCHANNEL_HOST_POLLS_PER_TICK": "50",
           "BACKCHANNEL_SMTP_URL": smtp.url(), "BACKCHANNEL_EMAIL_TO": "desk@bench.test"}
    log = (tmp / "daemon.log").open("w")
    daemon = subprocess.Popen([sys.executable, "-m", "backchannel", "run", "--sources",
                               str(sources)], env=env, cwd=ROOT, stdout=log,
                              stderr=subprocess.STDOUT)
    memory: dict[str, float] = {}
    passes = lambda: metric(port, "backchannel_pass_duration_seconds_count")  # noqa: E731
    try:
        assert wait_until(lambda: metric(port, "backchannel_polls_total") >= len(outlets), 120), \
            "the daemon never polled every feed"
        publish(room.site(outlets[0]), outlets[0], 0)  # warm-up: a first report
        assert wait_until(lambda: len(smtp.mails) == 1, 120), "the warm-up item was not alerted"
        start = passes()
        memory["after warm-up"] = metric(port, "process_resident_memory_bytes")
        appeared: dict[str, float] = {}
        rng = random.Random(7)
        checkpoints = [5, 50, args.passes]
        for n, outlet in enumerate(rng.sample(outlets[1:], len(outlets) - 1), 1):
            publish(room.site(outlet), outlet, n)
            appeared[outlet] = time.time()
            time.sleep(rng.uniform(1, 3))
            sample(memory, checkpoints, passes() - start, port)
        assert wait_until(lambda: len(smtp.mails) >= len(outlets), 120), \
            f"only {len(smtp.mails)} alerts arrived"
        while checkpoints:
            wait_until(lambda: passes() - start >= checkpoints[0], 600)
            sample(memory, checkpoints, passes() - start, port)
    finally:
        daemon.terminate()
        daemon.wait(60)
        room.close()
        smtp.close()
    latencies = []
    for mail in smtp.mails[1:]:
        outlet = mail.subject.split(": ", 1)[1].split(" - ")[0]
        latencies.append(mail.at - appeared[outlet])
    latencies.sort()
    print(f"{len(latencies)} items, feeds polled every {args.interval:.0f} s")
    print(f"item in feed -> alert accepted by SMTP: median {statistics.median(latencies):.1f} s,"
          f" p95 {latencies[int(len(latencies) * 0.95) - 1]:.1f} s, "
          f"worst {latencies[-1]:.1f} s")
    for when, rss in memory.items():
        print(f"resident memory {when}: {rss / 2**20:.0f} MB")


def sample(memory: dict[str, float], checkpoints: list[int], done: float, port: int) -> None:
    while checkpoints and done >= checkpoints[0]:
        memory[f"{checkpoints.pop(0)} passes later"] = metric(
            port, "process_resident_memory_bytes")


def publish(site, outlet: str, n: int) -> None:
    path = f"/news/{n}.html"
    url = site.url(path)
    paragraphs = [p.strip() + "." for p in PHONE_CALL.split(". ") if p.strip()]
    paragraphs.append(f"This report was filed by the {outlet} desk as item {n}.")
    published = datetime.now(UTC)
    site.routes[path] = Route(article_html("Leaders said to have spoken", paragraphs,
                                           published, "Desk", outlet, url))
    site.routes["/rss.xml"] = Route(rss_feed(outlet, site.base, [
        {"title": "Leaders said to have spoken", "link": url, "guid": f"{outlet}-{n}",
         "published": published}]), content_type="application/rss+xml", conditional=True)


if __name__ == "__main__":
    main()
