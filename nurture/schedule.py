"""Due times: step delays and send windows in the lead's time zone.

Times are stored in UTC; the lead's zone (``zoneinfo``) is used only here,
to add calendar days and business days in local time and to move a due time
into the next open window. In demo mode (``LEADGUARD_NURTURE_DEMO``) a day
lasts ``LEADGUARD_NURTURE_DEMO_DAY_SECONDS`` and windows are ignored, so a
whole sequence runs in minutes.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leads.settings import Settings
from nurture.sequences import Delay, Window

__all__ = ["due_after", "in_window", "lead_zone", "next_open"]

SATURDAY = 5
MAX_WINDOW_SEARCH_DAYS = 8


def lead_zone(window: Window, lead_time_zone: str | None, default: str) -> ZoneInfo:
    """Return the zone a window is read in (an unknown zone falls back)."""
    for name in (window.time_zone, lead_time_zone, default, "UTC"):
        if not name:
            continue
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def _add_business_days(local: dt.datetime, days: int) -> dt.datetime:
    moment = local
    while moment.weekday() >= SATURDAY:
        moment += dt.timedelta(days=1)
    added = 0
    while added < days:
        moment += dt.timedelta(days=1)
        if moment.weekday() < SATURDAY:
            added += 1
    return moment


def due_after(
    start: dt.datetime, delay: Delay, zone: ZoneInfo, settings: Settings
) -> dt.datetime:
    """Return ``start`` plus ``delay`` (UTC in, UTC out).

    Days keep the local wall-clock time across daylight-saving changes;
    business days skip Saturdays and Sundays in the lead's zone.
    """
    if settings.nurture_demo:
        day = settings.nurture_demo_day_seconds
        seconds = delay.amount * (day / 24 if delay.unit == "hours" else day)
        return start + dt.timedelta(seconds=seconds)
    if delay.unit == "hours":
        return start + dt.timedelta(hours=delay.amount)
    local = start.astimezone(zone)
    if delay.unit == "days":
        moved = (local.replace(tzinfo=None) + dt.timedelta(days=delay.amount)).replace(
            tzinfo=zone
        )
    else:
        moved = _add_business_days(local.replace(tzinfo=None), delay.amount).replace(
            tzinfo=zone
        )
    return moved.astimezone(dt.UTC)


def in_window(moment: dt.datetime, window: Window, zone: ZoneInfo) -> bool:
    """Whether ``moment`` falls inside the window, read in ``zone``."""
    local = moment.astimezone(zone)
    if local.weekday() not in window.days:
        return False
    clock = local.time().replace(tzinfo=None)
    if clock < window.start:
        return False
    return window.end is None or clock < window.end


def next_open(
    moment: dt.datetime, window: Window, zone: ZoneInfo, settings: Settings
) -> dt.datetime:
    """Return ``moment`` if the window is open then, else its next opening."""
    if settings.nurture_demo or in_window(moment, window, zone):
        return moment
    local = moment.astimezone(zone)
    for offset in range(MAX_WINDOW_SEARCH_DAYS):
        day = (local + dt.timedelta(days=offset)).date()
        if day.weekday() not in window.days:
            continue
        opening = dt.datetime.combine(day, window.start, tzinfo=zone)
        if opening > local:
            return opening.astimezone(dt.UTC)
    return moment
