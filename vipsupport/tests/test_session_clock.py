"""`TEST_CLOCK` moves the whole test session's clock; CI runs the suite a second time with it."""

import datetime
import os

import pytest
from django.utils import timezone

from vipsupport import testing

UTC = datetime.UTC


def test_the_switch_starts_a_ticking_travel_and_stops_it_again(monkeypatch):
    monkeypatch.setattr(testing, "_session_travel", None)  # leave this session's own travel be
    monkeypatch.setenv(testing.TEST_CLOCK_VARIABLE, "2033-03-27T00:30:00Z")

    testing.pytest_configure(pytest.Config.__new__(pytest.Config))
    try:
        first = timezone.now()
        later = timezone.now()
    finally:
        testing.pytest_unconfigure(pytest.Config.__new__(pytest.Config))

    instant = datetime.datetime(2033, 3, 27, 0, 30, tzinfo=UTC)
    assert instant <= first < instant + datetime.timedelta(seconds=5)
    assert later >= first  # it ticks on from there
    assert testing._session_travel is None
    assert abs(timezone.now() - instant) > datetime.timedelta(days=1)


def test_without_the_switch_nothing_travels(monkeypatch):
    monkeypatch.setattr(testing, "_session_travel", None)
    monkeypatch.delenv(testing.TEST_CLOCK_VARIABLE, raising=False)

    testing.pytest_configure(pytest.Config.__new__(pytest.Config))

    assert testing._session_travel is None


@pytest.mark.parametrize("value", ["next tuesday", "2031-10-26T00:30:00", "2031-13-01T00:00Z"])
def test_an_unclear_instant_stops_the_run_with_a_message(value):
    with pytest.raises(pytest.UsageError, match="TEST_CLOCK"):
        testing.session_clock_instant(value)


def test_offsets_other_than_utc_are_understood():
    assert testing.session_clock_instant("2035-12-31T23:59:00+14:00") == datetime.datetime(
        2035, 12, 31, 9, 59, tzinfo=UTC
    )


@pytest.mark.skipif(not os.environ.get("TEST_CLOCK"), reason="runs when TEST_CLOCK is set")
def test_this_session_runs_at_the_test_clock():
    instant = testing.session_clock_instant(os.environ["TEST_CLOCK"])
    # The suite ticks on from the instant; it takes minutes, not hours.
    assert instant <= timezone.now() < instant + datetime.timedelta(hours=1)
