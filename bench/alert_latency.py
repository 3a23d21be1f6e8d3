"""Time from an article stored to its alert accepted by the email and Slack receivers.

Method: N articles from N outlets about one contact are stored the way the crawl's
pipeline stores them (article, story and outbox in one transaction), one every
`--interval` seconds (0: all at once). A `Dispatcher`, as `backchannel crawl` and the
daemon run it, delivers to a real SMTP server (aiosmtpd) and a loopback HTTP server
standing in for Slack, both from tests/receivers.py. Latency = the receiver's clock at
acceptance minus the clock just after the transaction committed. Reported: median,
95th percentile and worst per channel, and duplicates/losses counted.

    .venv/bin/python bench/alert_latency.py [--alerts 100] [--interval 0.05]

Uses BACKCHANNEL_DATABASE_URL if set (a scratch database is created in it), else a
throwaway embedded server.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "alerts")]

from alerting import PHONE_CALL, report  # noqa: E402  (our own test text and helper)
from receivers import HttpReceiver, SmtpReceiver  # noqa: E402

from alerts.channels.email import EmailChannel  # noqa: E402
from alerts.channels.slack import SlackChannel  # noqa: E402
from alerts.dispatch import Dispatcher, RetryPolicy  # noqa: E402
from alerts.outbox import Outbox  # noqa: E402
from alerts.rules import Rule  # noqa: E402
from archive.db import connect  # noqa: E402
from core.config import Settings  # noqa: E402


def server_url(tmp: str) -> str:
    import os

    if os.environ.get("BACKCHANNEL_DATABASE_URL"):
        return os.environ["BACKCHANNEL_DATABASE_URL"]
    from archive.embedded import embedded_database_url

    return embedded_database_url(Path(tmp) / "pg")


def summary(name: str, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (f"{name:<6} n={len(ordered):<4} median {statistics.median(ordered) * 1000:7.1f} ms  "
            f"p95 {p95 * 1000:7.1f} ms  worst {ordered[-1] * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.05,
                        help="seconds between stored articles (0: a burst)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="backchannel-bench-") as tmp:
        base = server_url(tmp)
        name = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = make_conninfo(base, dbname=name)
        smtp, http = SmtpReceiver(), HttpReceiver()
        try:
            run(url, smtp, http, args)
        finally:
            smtp.close()
            http.close()
            with psycopg.connect(base, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(url: str, smtp: SmtpReceiver, http: HttpReceiver, args) -> None:
    db = connect(url)
    channels = {
        "email": EmailChannel.from_settings(Settings(smtp_url=smtp.url(),
                                                     email_to="desk@bench.test")),
        "slack": SlackChannel(http.url("/slack"), 10),
    }
    outbox = Outbox(rules=[Rule()], channels=list(channels))
    dispatcher = Dispatcher(url, channels, RetryPolicy()).start()
    time.sleep(0.5)  # let the dispatchers connect and LISTEN
    stored: dict[str, float] = {}
    try:
        for n in range(args.alerts):
            outlet = f"Bench Outlet {n:03d}"
            _, _, created = report(db, outbox, outlet, f"a{n}", "2025-05-06T08:00:00+00:00",
                                   PHONE_CALL + f"Reporting by the {outlet} desk, item {n}.")
            stored[outlet] = time.time()
            assert created, f"no alert for {outlet}"
            time.sleep(args.interval)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (
                len(smtp.mails) < args.alerts or len(http.accepted_at("/slack")) < args.alerts):
            time.sleep(0.05)
    finally:
        dispatcher.stop()
        db.close()
    by_channel = {
        "email": [(m.subject.split(": ", 1)[1].split(" - ")[0], m.at) for m in smtp.mails],
        "slack": [(p.body["text"].split(": ", 1)[1].split(" - ")[0], p.at)
                  for p in http.accepted_at("/slack")],
    }
    print(f"{args.alerts} alerts, one stored every {args.interval * 1000:.0f} ms")
    for channel, received in by_channel.items():
        outlets = [outlet for outlet, _ in received]
        duplicates = len(outlets) - len(set(outlets))
        lost = len(set(stored) - set(outlets))
        first = {}
        for outlet, at in received:
            first.setdefault(outlet, at)
        print(summary(channel, [first[o] - stored[o] for o in first])
              + f"  duplicates {duplicates}  lost {lost}")


if __name__ == "__main__":
    main()
