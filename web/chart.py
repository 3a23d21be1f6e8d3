"""The geometry of a bar chart of reports per day, for a server-rendered SVG: the
template only draws what this computes, so the page needs no JavaScript."""

from __future__ import annotations

import math
from datetime import date, timedelta

MAX_DAYS = 3660  # ten years of bars at most; a longer range is refused, not cut
PAD_SHARE = 0.05  # an unchosen range is the data's, widened by this share each side
WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 56


def _step(top: int, ticks: int = 4) -> int:
    """A round step (1, 2, 5 × 10^k) that puts at most `ticks` gridlines above zero."""
    raw = max(top / ticks, 1)
    power = 10 ** math.floor(math.log10(raw))
    return int(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def fitted_range(days: list[dict]) -> tuple[date, date] | None:
    """From the first to the last day with reports, padded a little on each side (at
    least a day), so that a few recent days fill the chart instead of a sliver of a
    year; the last MAX_DAYS days of it when the data span more."""
    if not days:
        return None
    first, last = min(r["day"] for r in days), max(r["day"] for r in days)
    pad = timedelta(days=max(1, round((last - first).days * PAD_SHARE)))
    first, last = first - pad, last + pad
    return max(first, last - timedelta(days=MAX_DAYS - 1)), last


def every_day(days: list[dict], first: date, last: date) -> list[dict]:
    """Each day from `first` to `last`, days without a report as zeros."""
    counts = {row["day"]: int(row["reports"]) for row in days}
    span = (last - first).days + 1
    return [{"day": first + timedelta(days=i), "reports": counts.get(first + timedelta(days=i), 0)}
            for i in range(span)]


def bar_chart(days: list[dict], first: date | None = None,
              last: date | None = None) -> dict | None:
    """Bars, gridlines and labels in SVG user units for each day from `first` to `last`
    (default: the fitted range of `days`); None when there is no report to draw. The
    caption's figures (`total`, `days_with_reports`) count `days`, as the table does."""
    if not days:
        return None
    if first is None or last is None:
        first, last = fitted_range(days)
    filled = every_day(days, first, last)
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
            "last": filled[-1]["day"], "total": sum(int(r["reports"]) for r in days),
            "days_with_reports": len(days)}

