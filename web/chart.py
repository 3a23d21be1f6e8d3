"""The geometry of a bar chart of reports per day, for a server-rendered SVG: the
template only draws what this computes, so the page needs no JavaScript."""

from __future__ import annotations

import math
from datetime import timedelta

MAX_DAYS = 366  # a longer range shows its last year; narrow it with since/until
WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 56


def _step(top: int, ticks: int = 4) -> int:
    """A round step (1, 2, 5 × 10^k) that puts at most `ticks` gridlines above zero."""
    raw = max(top / ticks, 1)
    power = 10 ** math.floor(math.log10(raw))
    return int(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def every_day(days: list[dict]) -> list[dict]:
    """The days from the first to the last report, days without one as zeros."""
    counts = {row["day"]: int(row["reports"]) for row in days}
    if not counts:
        return []
    first, last = min(counts), max(counts)
    first = max(first, last - timedelta(days=MAX_DAYS - 1))
    span = (last - first).days + 1
    return [{"day": first + timedelta(days=i), "reports": counts.get(first + timedelta(days=i), 0)}
            for i in range(span)]


def bar_chart(days: list[dict]) -> dict | None:
    """Bars, gridlines and labels in SVG user units; None when there is nothing to draw."""
    filled = every_day(days)
    if not filled:
        return None
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    peak = max(row["reports"] for row in filled) or 1
    step = _step(peak)
    top = step * math.ceil(peak / step)
    slot = plot_w / len(filled)
    bar_w = max(slot * 0.8, 1.0)
    bars = []
    for i, row in enumerate(filled):
        h = plot_h * row["reports"] / top
        bars.append({"x": round(LEFT + i * slot + (slot - bar_w) / 2, 2),
                     "y": round(TOP + plot_h - h, 2), "w": round(bar_w, 2), "h": round(h, 2),
                     "day": row["day"], "reports": row["reports"]})
    y_ticks = [{"y": round(TOP + plot_h - plot_h * v / top, 2), "label": str(v)}
               for v in range(0, top + 1, step)]
    every = math.ceil(len(filled) / 8)
    x_ticks = [{"x": round(LEFT + i * slot + slot / 2, 2), "label": filled[i]["day"].isoformat()}
               for i in range(0, len(filled), every)]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "top": TOP,
            "right": WIDTH - RIGHT, "bottom": TOP + plot_h, "bars": bars,
            "y_ticks": y_ticks, "x_ticks": x_ticks, "first": filled[0]["day"],
            "last": filled[-1]["day"], "total": sum(r["reports"] for r in filled)}

