"""Month-by-month bar charts, drawn the same way by ``tricrm report trend`` and the TUI.

Both faces use plotext: the CLI the ``plotext`` module itself, the TUI the ``plt`` of a
textual-plotext ``PlotextPlot`` widget; they share one API, so this module takes either.
The y axis gets a few round, short labels (``12.5M``) rather than plotext's long floats,
and the x axis shows at most ``max_labels`` months so the labels never run into each other.
"""

from __future__ import annotations

import math
from typing import Any


def compact(value: float) -> str:
    """``950``, ``12.5k``, ``4.2M``, ``1.1B``: axis labels that fit ten columns."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.0f}"


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """0 and ``count`` round steps (1, 2, 2.5 or 5 × 10^k) reaching at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return [step * i for i in range(count + 1) if step * (i - 1) < top]


def draw_month_bars(
    plt: Any, months: list[str], values: list[float], title: str, *, max_labels: int = 6
) -> None:
    """Bars of ``values`` per ``YYYY-MM`` month on ``plt`` (cleared first)."""
    plt.clear_figure()
    plt.theme("clear")
    positions = list(range(1, len(months) + 1))
    plt.bar(positions, values, width=0.6, marker="hd")
    plt.title(title)
    every = max(1, math.ceil(len(months) / max_labels))
    shown = positions[::every]
    plt.xticks(shown, [months[p - 1] for p in shown])
    ticks = nice_ticks(max(values, default=0.0))
    plt.yticks(ticks, [compact(t) for t in ticks])
    plt.ylim(0, ticks[-1])
