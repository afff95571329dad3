from datetime import date, timedelta

from sla.charts import trend_chart
from sla.reports import Week


def weeks(*counts):
    return [
        Week(date(2026, 10, 5) + timedelta(weeks=index), met, breached)
        for index, (met, breached) in enumerate(counts)
    ]


def test_the_breach_scale_uses_whole_numbers():
    chart = trend_chart(weeks((3, 1), (0, 0)))

    assert [count for _y, _share, count in chart.grid] == [0, 1, 2, 3, 4]
    assert [share for _y, share, _count in chart.grid] == [0, 25, 50, 75, 100]


def test_bars_scale_to_the_highest_week_and_weeks_without_decisions_have_no_point():
    chart = trend_chart(weeks((4, 4), (2, 2), (0, 0)))

    assert chart.bars[0].height == chart.plot_bottom - chart.plot_top
    assert chart.bars[1].height == (chart.plot_bottom - chart.plot_top) / 2
    assert chart.bars[2].height == 0
    assert len(chart.points) == 2
    # 50 % compliance sits halfway up.
    assert chart.points[0].y == (chart.plot_bottom + chart.plot_top) / 2
