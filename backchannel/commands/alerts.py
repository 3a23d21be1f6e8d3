"""`backchannel alerts list|test|retry`: what was alerted and where it got to; a test
message through each channel; failed deliveries sent again."""

from __future__ import annotations

import json
import sys

from alerts.channels import DeliveryError
from alerts.outbox import DELIVERY_STATUSES, list_alerts, retry_failed
from alerts.wiring import wiring_from_settings
from archive.db import connect
from archive.outbox import delivery_counts


def register(subparsers) -> None:
    parser = subparsers.add_parser("alerts", help="alerts: list, test the channels, retry")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="alerts, newest first, with delivery state")
    listing.add_argument("--status", choices=DELIVERY_STATUSES,
                         help="only alerts with a delivery in this state")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.add_argument("--limit", type=int, default=100, help="at most N alerts (100)")
    listing.set_defaults(handler=run_list)

    test = actions.add_parser("test", help="send a test message through the channels")
    test.add_argument("--channel", help="only this channel (email, slack, webhook)")
    test.set_defaults(handler=run_test)

    retry = actions.add_parser("retry", help="send failed and pending deliveries now")
    retry.add_argument("--id", type=int, action="append", dest="ids",
                       help="only this alert (repeatable)")
    retry.add_argument("--channel", help="only this channel")
    retry.set_defaults(handler=run_retry)


def run_list(args, settings) -> int:
    conn = connect(settings)
    try:
        rows = list_alerts(conn, args.status, limit=max(1, min(args.limit, 100_000)))
    finally:
        conn.close()
    if args.format == "json":
        for row in rows:
            print(json.dumps(row, default=str, ensure_ascii=False))
        return 0
    if not rows:
        print("no alerts")
        return 0
    for row in rows:
        states = "  ".join(_state(d) for d in row["deliveries"]) or "no channel (log only)"
        print(f"#{row['id']:<5} {row['created_at']:%Y-%m-%d %H:%M}  story {row['story_id']:<5} "
              f"{row['kind']:<12} {row['outlet']}  {row['url']}")
        print(f"       {states}")
        for delivery in row["deliveries"]:
            if delivery["last_error"] and delivery["status"] != "delivered":
                print(f"       {delivery['channel']}: {delivery['last_error']}")
    return 0


def _state(delivery: dict) -> str:
    attempts = f" after {delivery['attempts']}" if delivery["attempts"] > 1 else ""
    return f"{delivery['channel']}: {delivery['status']}{attempts}"


def run_test(args, settings) -> int:
    wiring = wiring_from_settings(settings)
    if not wiring.channels:
        print("backchannel alerts test: no channel is configured (set BACKCHANNEL_SMTP_URL, "
              "BACKCHANNEL_SLACK_WEBHOOK_URL or BACKCHANNEL_WEBHOOK_URL)", file=sys.stderr)
        return 2
    if args.channel:
        wiring = wiring.only(args.channel)
    failed = 0
    for name, channel in wiring.channels.items():
        try:
            receipt = channel.send_test()
        except DeliveryError as exc:
            failed += 1
            print(f"{name}: FAILED ({channel.describe()}): {exc.reason}")
        else:
            print(f"{name}: ok ({channel.describe()}): {receipt}")
    return 1 if failed else 0


def run_retry(args, settings) -> int:
    wiring = wiring_from_settings(settings)
    if args.channel:
        wiring = wiring.only(args.channel)
    channels = wiring.channels
    conn = connect(wiring.database_url)
    try:
        reset = retry_failed(conn, args.ids, args.channel)
        wiring.start().drain(settings.alert_wait_seconds)
        by_status = delivery_counts(conn, args.ids, list(channels))
    finally:
        conn.close()
    print(f"{reset} failed deliveries queued again; now "
          + ", ".join(f"{by_status.get(s, 0)} {s}" for s in DELIVERY_STATUSES))
    return 1 if by_status.get("failed") else 0
