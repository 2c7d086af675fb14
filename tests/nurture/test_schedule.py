"""Delays and send windows in the lead's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from leads.settings import Settings, load_settings
from nurture.schedule import due_after, in_window, lead_zone, next_open
from nurture.sequences import Delay, Window

KL = ZoneInfo("Asia/Kuala_Lumpur")
WEEKDAYS = Window(frozenset(range(5)), dt.time(9), dt.time(17))


def _utc(local: dt.datetime) -> dt.datetime:
    return local.astimezone(dt.UTC)


def test_business_days_skip_the_weekend(settings: Settings) -> None:
    friday = _utc(dt.datetime(2026, 12, 4, 10, 0, tzinfo=KL))
    due = due_after(friday, Delay(2, "business_days"), KL, settings)
    assert due.astimezone(KL) == dt.datetime(2026, 12, 8, 10, 0, tzinfo=KL)


def test_days_keep_wall_clock_across_dst(settings: Settings) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    before = _utc(dt.datetime(2026, 3, 28, 10, 0, tzinfo=berlin))
    due = due_after(before, Delay(1, "days"), berlin, settings)
    assert due.astimezone(berlin).hour == 10
    assert due - before == dt.timedelta(hours=23)


def test_window_is_read_in_the_leads_zone() -> None:
    moment = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC)  # 10:00 in KL
    assert in_window(moment, WEEKDAYS, KL)
    assert not in_window(moment, WEEKDAYS, ZoneInfo("America/New_York"))


def test_next_open_moves_to_the_next_weekday_morning(settings: Settings) -> None:
    friday_evening = _utc(dt.datetime(2026, 12, 4, 18, 30, tzinfo=KL))
    opening = next_open(friday_evening, WEEKDAYS, KL, settings)
    assert opening.astimezone(KL) == dt.datetime(2026, 12, 7, 9, 0, tzinfo=KL)
    inside = _utc(dt.datetime(2026, 12, 7, 11, 0, tzinfo=KL))
    assert next_open(inside, WEEKDAYS, KL, settings) == inside


def test_demo_compresses_delays_and_ignores_windows(tmp_path: object) -> None:
    demo = load_settings(nurture_demo=True, nurture_demo_day_seconds=30)
    start = dt.datetime(2026, 12, 5, 3, 0, tzinfo=dt.UTC)  # a Saturday
    assert due_after(start, Delay(2, "business_days"), KL, demo) == start + (
        dt.timedelta(seconds=60)
    )
    assert due_after(start, Delay(12, "hours"), KL, demo) == start + (
        dt.timedelta(seconds=15)
    )
    assert next_open(start, WEEKDAYS, KL, demo) == start


def test_unknown_zone_falls_back_to_default() -> None:
    assert lead_zone(WEEKDAYS, "Mars/Olympus", "Asia/Kuala_Lumpur") == KL
    fixed = Window(frozenset(range(7)), dt.time(0), None, "Europe/Paris")
    assert lead_zone(fixed, "Asia/Tokyo", "UTC") == ZoneInfo("Europe/Paris")
