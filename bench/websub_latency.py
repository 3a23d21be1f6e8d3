"""Detection latency with WebSub beside polling: how long from an item's appearance
to the SMTP server accepting its alert, for feeds a hub pushes and feeds polled.

Method: a test newsroom (tests/newsroom.py) on 127.0.0.1 with 2N outlets: N whose
feeds name a WebSub hub stand-in (tests/websub_hub.py), N without one, polled every
`--interval` seconds (60; adaptive intervals off). One daemon (`backchannel run`, a
child process, as users run it) watches all of them, with WebSub on, alerting a real
SMTP server (aiosmtpd). Once every pushed feed is subscribed and a warm-up item has
been alerted, one item appears every 0.5–1.5 s in a random outlet's feed (the same
contact story, so each outlet alerts once); for a pushed outlet the hub then delivers
the new feed, signed, at once. Latency = the SMTP server's clock on accepting the alert
minus the clock when the item appeared in the feed.

    .venv/bin/python bench/websub_latency.py [--outlets 20] [--interval 60]

Uses BACKCHANNEL_DATABASE_URL if set (a scratch database is created in it), else a
throwaway embedded server.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "alerts")]

from alerting import PHONE_CALL  # noqa: E402  (our own invented report)
from newsroom import Newsroom, Route, article_html, wait_until  # noqa: E402
from receivers import SmtpReceiver, free_port  # noqa: E402
from scratch_db import scratch_database  # noqa: E402
from websub_hub import Hub  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outlets", type=int, default=20, help="pushed, and as many polled")
    parser.add_argument("--interval", type=float, default=60.0,
                        help="seconds between polls of the feeds without a hub")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="backchannel-bench-") as tmp, \
            scratch_database(Path(tmp)) as url:
        run(url, Path(tmp), args)


def feed(outlet: str, base: str, hub: str | None, items: list[tuple[str, str]]) -> bytes:
    link = f'<atom:link rel="hub" href="{hub}"/>' if hub else ""
    entries = "".join(f"<item><title>{t}</title><link>{u}</link><guid>{u}</guid></item>"
                      for t, u in items)
    return (f'<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/'
            f'Atom"><channel><title>{outlet}</title><link>{base}/</link>{link}{entries}'
            "</channel></rss>").encode()


def run(url: str, tmp: Path, args) -> None:
    room, smtp, hub = Newsroom(), SmtpReceiver(), Hub()
    pushed = [f"Pushed Outlet {n:02d}" for n in range(args.outlets + 1)]  # 0: warm-up
    polled = [f"Polled Outlet {n:02d}" for n in range(args.outlets)]
    for outlet in pushed + polled:
        site = room.site(outlet)
        site.routes["/rss.xml"] = Route(feed(outlet, site.base, hub.url if outlet in pushed
                                             else None, []), content_type="application/rss+xml")
    sources = tmp / "sources.toml"
    text = room.sources_toml({o: ["/rss.xml"] for o in pushed + polled})
    sources.write_text(text.replace("interval_minutes = 5",
                                    f"interval_minutes = {args.interval / 60:.4f}"))
    port = free_port()
    env = {**os.environ, "BACKCHANNEL_DATABASE_URL": url, "BACKCHANNEL_HOME": str(tmp / "h"),
           "BACKCHANNEL_TICK_SECONDS": "1", "BACKCHANNEL_ADAPTIVE_INTERVALS": "false",
           "BACKCHANNEL_HEALTH_PORT": str(port), "BACKCHANNEL_DOWNLOAD_DELAY": "0",
           "BACKCHANNEL_HOST_POLLS_PER_TICK": "100",
           "BACKCHANNEL_WEBSUB_CALLBACK_URL": f"http://127.0.0.1:{port}",
           "BACKCHANNEL_SMTP_URL": smtp.url(), "BACKCHANNEL_EMAIL_TO": "desk@bench.test"}
    log = (tmp / "daemon.log").open("w")
    daemon = subprocess.Popen([sys.executable, "-m", "backchannel", "run", "--sources",
                               str(sources)], env=env, cwd=ROOT, stdout=log,
                              stderr=subprocess.STDOUT)
    appeared: dict[str, float] = {}
    try:
        assert wait_until(lambda: all(hub.verified(room.site(o).url("/rss.xml"))
                                      for o in pushed), 120), "not every feed was subscribed"
        publish(room, hub, pushed[0], 0)  # warm-up: a first report, every library loaded
        assert wait_until(lambda: len(smtp.mails) == 1, 120), "the warm-up was not alerted"
        rng = random.Random(7)
        order = pushed[1:] + polled
        rng.shuffle(order)
        for n, outlet in enumerate(order, 1):
            appeared[outlet] = publish(room, hub if outlet in pushed else None, outlet, n)
            time.sleep(rng.uniform(0.5, 1.5))
        assert wait_until(lambda: len(smtp.mails) > len(order), args.interval * 2 + 60), \
            f"only {len(smtp.mails)} alerts arrived"
    finally:
        daemon.terminate()
        daemon.wait(60)
        room.close()
        smtp.close()
        hub.close()
    latency: dict[bool, list[float]] = {True: [], False: []}
    for mail in smtp.mails[1:]:
        outlet = mail.subject.split(": ", 1)[1].split(" - ")[0]
        latency[outlet in pushed].append(mail.at - appeared[outlet])
    print(f"{args.outlets} items pushed by a WebSub hub, {args.outlets} polled every "
          f"{args.interval:.0f} s; item in feed -> alert accepted by SMTP:")
    for kind, values in (("WebSub", latency[True]), (f"polling {args.interval:.0f} s",
                                                     latency[False])):
        values.sort()
        print(f"  {kind:<12} median {statistics.median(values):6.2f} s, p95 "
              f"{values[max(0, int(len(values) * 0.95) - 1)]:6.2f} s, "
              f"worst {values[-1]:6.2f} s")


def publish(room: Newsroom, hub: Hub | None, outlet: str, n: int) -> float:
    """Item `n` appears in the outlet's feed (and the hub pushes it); the time it did."""
    site = room.site(outlet)
    url = site.url(f"/news/{n}.html")
    paragraphs = [p.strip() + "." for p in PHONE_CALL.split(". ") if p.strip()]
    paragraphs.append(f"This report was filed by the {outlet} desk as item {n}.")
    site.routes[f"/news/{n}.html"] = Route(article_html(
        "Leaders said to have spoken", paragraphs, datetime.now(UTC), "Desk", outlet, url))
    body = feed(outlet, site.base, hub.url if hub else None,
                [("Leaders said to have spoken", url)])
    site.routes["/rss.xml"] = Route(body, content_type="application/rss+xml")
    appeared = time.time()
    if hub is not None:
        hub.publish(site.url("/rss.xml"), body)
    return appeared


if __name__ == "__main__":
    main()
