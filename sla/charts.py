"""The weekly trend chart's geometry; the SVG itself is a template, so its words are translated."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sla.reports import Week

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 44, 16, 36


@dataclass(frozen=True)
class Bar:
    week: Week
    x: float
    y: float
    width: float
    height: float
    label_x: float


@dataclass(frozen=True)
class Point:
    week: Week
    x: float
    y: float


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    bars: list[Bar]
    points: list[Point]
    polyline: str
    max_breaches: int
    plot_top: int
    plot_bottom: int
    plot_left: int
    plot_right: int
    grid: list[tuple[float, int, int]]  # y, compliance %, breaches at that line


def trend_chart(weeks: list[Week]) -> TrendChart:
    """Bars for breaches (left scale), a line for compliance % (right scale, 0-100)."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(weeks), 1)
    # A scale of whole numbers: the top is a multiple of 4, so each grid line is a whole count.
    highest = max([week.breached for week in weeks] + [1])
    max_breaches = 4 * math.ceil(highest / 4)
    bottom = TOP + plot_height

    def y_for_share(share: float) -> float:
        return round(bottom - plot_height * share, 1)

    bars, points = [], []
    for index, week in enumerate(weeks):
        x = LEFT + index * slot
        height = plot_height * week.breached / max_breaches
        bars.append(
            Bar(
                week,
                round(x + slot * 0.2, 1),
                round(bottom - height, 1),
                round(slot * 0.6, 1),
                round(height, 1),
                round(x + slot / 2, 1),
            )
        )
        if week.compliance is not None:
            points.append(Point(week, round(x + slot / 2, 1), y_for_share(week.compliance / 100)))
    grid = [
        (y_for_share(share), round(share * 100), int(share * max_breaches))
        for share in (0, 0.25, 0.5, 0.75, 1)
    ]
    return TrendChart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        points=points,
        polyline=" ".join(f"{point.x},{point.y}" for point in points),
        max_breaches=max_breaches,
        plot_top=TOP,
        plot_bottom=bottom,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        grid=grid,
    )
