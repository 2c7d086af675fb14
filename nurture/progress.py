"""Moving an enrollment on once a step is done (sent, skipped or lost)."""

from __future__ import annotations

import datetime as dt

from leads.models import Lead
from leads.settings import Settings
from nurture.models import EnrollmentState, NurtureEnrollment
from nurture.schedule import due_after, lead_zone, next_open
from nurture.sequences import Sequence

__all__ = ["advance_enrollment", "first_due_at"]


def first_due_at(
    sequence: Sequence, lead: Lead, now: dt.datetime, settings: Settings
) -> dt.datetime:
    """Return when the first step of ``sequence`` is due for ``lead``."""
    zone = lead_zone(sequence.window, lead.time_zone, settings.default_time_zone)
    due = due_after(now, sequence.steps[0].delay, zone, settings)
    return next_open(due, sequence.window, zone, settings)


def advance_enrollment(
    enrollment: NurtureEnrollment,
    sequence: Sequence | None,
    lead: Lead,
    now: dt.datetime,
    settings: Settings,
) -> None:
    """Point an enrollment at its next step, or complete it.

    The next step's delay counts from ``now`` (when the previous step was
    done), then moves into the send window in the lead's zone.
    """
    if enrollment.state != EnrollmentState.ACTIVE:
        return
    if sequence is None:
        enrollment.state = EnrollmentState.STOPPED
        enrollment.stop_reason = "sequence_removed"
        enrollment.next_due_at = None
        return
    enrollment.next_step += 1
    if enrollment.next_step >= len(sequence.steps):
        enrollment.state = EnrollmentState.COMPLETED
        enrollment.next_due_at = None
        return
    step = sequence.steps[enrollment.next_step]
    zone = lead_zone(sequence.window, lead.time_zone, settings.default_time_zone)
    due = due_after(now, step.delay, zone, settings)
    enrollment.next_due_at = next_open(due, sequence.window, zone, settings)
