"""Sending one step: checks, rendering, throttling, the claim, the outcome.

The order of events for one send record is what makes each step go out at
most once and, barring a crash in a window of microseconds, exactly once:

1. A short transaction re-reads the record (it must still be ``queued``),
   the enrollment, suppression, consent and the exit conditions, then
   decrypts the lead's fields and renders the email in memory.
2. The rate limits are taken (or the send is deferred).
3. The SMTP transaction runs up to the end of the body. Then, before the
   final ``.``, a second transaction *claims* the record: it locks the send
   and its enrollment, checks suppression, consent and the enrollment
   again, and moves the record from ``queued`` to ``sending``. Only when
   that commits is the ``.`` sent; otherwise the connection is dropped and
   the relay discards the message.
4. The relay's reply settles the record: ``sent``, back to ``queued`` with
   a backoff (4xx, network), ``bounced`` and suppressed (5xx), or
   ``unconfirmed`` when the connection broke after the ``.``.

A worker killed before step 3 commits leaves a ``queued`` record: a later
task sends it once. One killed after it leaves a ``sending`` record whose
message the relay already has; the tick marks it ``unconfirmed`` and never
sends it again. The only loss window is between the claim's commit and the
``.`` leaving the socket.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import random
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from leads.audit import record_audit
from leads.consent import may_use
from leads.errors import ConfigurationError
from leads.keyring import KeyRing
from leads.metrics import record_email
from leads.models import Lead, LeadStatus, Purpose, utcnow
from leads.personal import Personal
from leads.settings import Settings
from leads.vault import Vault
from nurture.dkim_signer import signer_for
from nurture.enrollment import stop_enrollments
from nurture.errors import (
    DeliveryOutcomeUnknownError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from nurture.message import (
    OutgoingEmail,
    build_message,
    message_bytes,
    sender_address,
)
from nurture.models import EnrollmentState, NurtureEnrollment, NurtureSend, SendState
from nurture.progress import advance_enrollment
from nurture.relay import SmtpRelay
from nurture.rendering import render_step
from nurture.schedule import in_window, lead_zone, next_open
from nurture.sequences import Sequence, SequenceSet
from nurture.suppression import is_lead_suppressed, suppress_index
from nurture.throttle import SendThrottle
from nurture.tokens import unsubscribe_token
from nurture.web import unsubscribe_url

__all__ = ["Outcome", "Sender", "check_link_settings", "retry_delay"]

log = logging.getLogger(__name__)

MAX_INLINE_WAIT_SECONDS = 2.0


class Outcome(enum.StrEnum):
    """What one call of :meth:`Sender.send` did."""

    SENT = "sent"
    NOTHING_TO_DO = "nothing_to_do"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    DEFERRED = "deferred"
    RETRY = "retry"
    FAILED = "failed"
    BOUNCED = "bounced"
    UNCONFIRMED = "unconfirmed"


_METRIC_OF = {
    Outcome.SENT: "sent",
    Outcome.UNCONFIRMED: "sent",
    Outcome.BOUNCED: "failed",
    Outcome.FAILED: "failed",
    Outcome.CANCELLED: "suppressed",
}


@dataclass(frozen=True, repr=False)
class _Prepared:
    email: OutgoingEmail
    raw: bytes
    domain: str


def check_link_settings(settings: Settings) -> None:
    """Refuse plain-http unsubscribe links in production.

    Raises:
        ConfigurationError: production with a non-https public base URL.
    """
    if settings.environment == "production" and not (
        settings.public_base_url.startswith("https://")
    ):
        raise ConfigurationError(
            "LEADGUARD_PUBLIC_BASE_URL: unsubscribe links need https in production"
        )


def retry_delay(attempts: int, settings: Settings) -> float:
    """Seconds before the next attempt: exponential, capped, with jitter.

    "Equal jitter": half the exponential delay is fixed, half is random,
    so retries of many sends spread out without ever coming back at once.
    """
    ceiling = min(
        settings.nurture_retry_max_seconds,
        settings.nurture_retry_base_seconds * 2 ** max(0, attempts - 1),
    )
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311


def _exit_reason(
    session: Session, enrollment: NurtureEnrollment, lead: Lead, sequence: Sequence
) -> str | None:
    """Why this enrollment must stop now, or None."""
    if is_lead_suppressed(session, lead.id):
        return "suppressed"
    if not may_use(session, lead.id, Purpose.EMAIL_NURTURE):
        return "consent_withdrawn"
    if "converted" in sequence.exits and lead.status == LeadStatus.WON:
        return "converted"
    if (
        "status_changed" in sequence.exits
        and lead.status != enrollment.status_at_enrollment
    ):
        return "status_changed"
    return None


class Sender:
    """Sends steps for one worker process (keeps one relay connection)."""

    def __init__(
        self,
        settings: Settings,
        vault: Vault,
        sequences: SequenceSet,
    ) -> None:
        check_link_settings(settings)
        self.settings = settings
        self.vault = vault
        self.sessions: sessionmaker[Session] = vault.sessions
        self.sequences = sequences
        self.relay = SmtpRelay(settings)
        self.throttle = SendThrottle(settings)
        self.signer = signer_for(settings)
        self.sender = sender_address(settings)
        self._accepted: list[tuple[int, dt.datetime]] = []

    def __repr__(self) -> str:
        return f"Sender({self.relay!r})"

    @property
    def keyring(self) -> KeyRing:
        """The key ring of the vault."""
        return self.vault.keyring

    def close(self) -> None:
        """Record accepted sends and close the relay connection."""
        try:
            self.flush()
        finally:
            self.relay.close()

    # -- 1. checks and rendering -----------------------------------------

    def _prepare(self, send_id: int) -> _Prepared | Outcome:
        with self.sessions.begin() as session:
            send = session.get(NurtureSend, send_id)
            if send is None or send.state != SendState.QUEUED:
                return Outcome.NOTHING_TO_DO
            enrollment = session.get(NurtureEnrollment, send.enrollment_id)
            lead = session.get(Lead, send.lead_id)
            if enrollment is None or lead is None:
                send.state, send.due_at = SendState.CANCELLED, None
                return Outcome.CANCELLED
            if enrollment.state != EnrollmentState.ACTIVE:
                send.state, send.due_at = SendState.CANCELLED, None
                return Outcome.CANCELLED
            sequence = self.sequences.get(enrollment.sequence)
            if sequence is None or send.step >= len(sequence.steps):
                send.state, send.due_at = SendState.CANCELLED, None
                advance_enrollment(enrollment, None, lead, utcnow(), self.settings)
                return Outcome.CANCELLED
            reason = _exit_reason(session, enrollment, lead, sequence)
            if reason is not None:
                self._stop(session, send, enrollment, reason)
                return Outcome.CANCELLED
            step = sequence.steps[send.step]
            qualifying: dict[str, object] = {
                "tier": lead.tier,
                "score": lead.score,
                "company_size": lead.company_size,
                "timeline": lead.timeline,
                "budget": lead.budget,
            }
            if not step.when.matches(
                tier=lead.tier,
                score=lead.score,
                qualifying={
                    "company_size": lead.company_size,
                    "timeline": lead.timeline,
                    "budget": lead.budget,
                },
            ):
                send.state, send.due_at = SendState.SKIPPED, None
                advance_enrollment(enrollment, sequence, lead, utcnow(), self.settings)
                return Outcome.SKIPPED
            now = utcnow()
            zone = lead_zone(
                sequence.window, lead.time_zone, self.settings.default_time_zone
            )
            if not self.settings.nurture_demo and not in_window(
                now, sequence.window, zone
            ):
                send.due_at = next_open(now, sequence.window, zone, self.settings)
                return Outcome.DEFERRED
            personal = self.vault.read_personal(session, lead.id)
            lead_id = lead.id
            message_id = send.message_id
        return self._render(lead_id, step, personal, qualifying, message_id)

    def _render(
        self,
        lead_id: uuid.UUID,
        step: object,
        personal: dict[str, Personal[str] | None],
        qualifying: dict[str, object],
        message_id: str,
    ) -> _Prepared:
        from nurture.sequences import Step

        assert isinstance(step, Step)  # noqa: S101
        token = unsubscribe_token(self.keyring, lead_id)
        url = unsubscribe_url(self.settings, token)
        rendered = render_step(
            step,
            personal=personal,
            qualifying=qualifying,
            unsubscribe_url=url,
            sender_name=self.sender.display_name or self.sender.domain,
        )
        address = personal.get("email")
        if address is None:
            raise TemporaryDeliveryError(0, "lead has no address", "connect")
        email = OutgoingEmail(
            to_address=address,
            to_name=personal.get("name"),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=message_id,
            unsubscribe_url=url,
            unsubscribe_mailto=(
                f"{self.settings.mail_unsubscribe_mailto}?subject=unsubscribe%20{token}"
            ),
        )
        raw = message_bytes(build_message(self.settings, email))
        if self.signer is not None:
            raw = self.signer.sign(raw)
        domain = address.reveal().rsplit("@", 1)[-1]
        return _Prepared(email, raw, domain)

    def _stop(
        self,
        session: Session,
        send: NurtureSend,
        enrollment: NurtureEnrollment,
        reason: str,
    ) -> None:
        send.state, send.due_at = SendState.CANCELLED, None
        if reason in ("suppressed", "consent_withdrawn"):
            stop_enrollments(session, enrollment.lead_id, reason)
        else:
            enrollment.state = EnrollmentState.STOPPED
            enrollment.stop_reason = reason
            enrollment.next_due_at = None
        log.info("nurture.send.cancelled send_id=%s reason=%s", send.id, reason)

    # -- 3. the claim ----------------------------------------------------

    def _claim(self, send_id: int) -> bool:
        """Lock and re-check everything; move ``queued`` to ``sending``.

        The same transaction records the sends accepted before this one.
        """
        with self.sessions.begin() as session:
            self._settle_accepted(session)
            locking = session.get_bind().dialect.name == "postgresql"
            query = select(NurtureSend).where(NurtureSend.id == send_id)
            send = session.scalar(query.with_for_update() if locking else query)
            if send is None or send.state != SendState.QUEUED:
                return False
            enrollment_query = select(NurtureEnrollment).where(
                NurtureEnrollment.id == send.enrollment_id
            )
            enrollment = session.scalar(
                enrollment_query.with_for_update() if locking else enrollment_query
            )
            lead = session.get(Lead, send.lead_id)
            if enrollment is None or lead is None:
                send.state, send.due_at = SendState.CANCELLED, None
                return False
            if enrollment.state != EnrollmentState.ACTIVE:
                send.state, send.due_at = SendState.CANCELLED, None
                return False
            sequence = self.sequences.get(enrollment.sequence)
            reason = (
                _exit_reason(session, enrollment, lead, sequence)
                if sequence is not None
                else "sequence_removed"
            )
            if reason is not None:
                self._stop(session, send, enrollment, reason)
                return False
            send.state = SendState.SENDING
            send.attempts += 1
            lease = self.settings.nurture_claim_lease_seconds
            send.due_at = utcnow() + dt.timedelta(seconds=lease)
        return True

    # -- 4. outcomes -----------------------------------------------------

    def _settle(self, send_id: int, state: SendState, code: int | None) -> None:
        with self.sessions.begin() as session:
            self._settle_in(session, send_id, state, code, utcnow())

    def flush(self) -> None:
        """Record the sends accepted since the last claim (one transaction).

        Accepted sends are recorded in the next claim's transaction, or
        here; until then they stay ``sending``, which never sends again.
        """
        if not self._accepted:
            return
        with self.sessions.begin() as session:
            self._settle_accepted(session)

    def _settle_accepted(self, session: Session) -> None:
        for send_id, accepted_at in self._accepted:
            self._settle_in(session, send_id, SendState.SENT, 250, accepted_at)
        self._accepted = []

    def _settle_in(
        self,
        session: Session,
        send_id: int,
        state: SendState,
        code: int | None,
        now: dt.datetime,
    ) -> None:
        send = session.get(NurtureSend, send_id)
        if send is None:
            return
        if state in (SendState.SENT, SendState.UNCONFIRMED) and (
            send.state != SendState.SENDING
        ):
            return
        send.state, send.due_at, send.last_code = state, None, code
        if state in (SendState.SENT, SendState.UNCONFIRMED):
            send.sent_at = now
        enrollment = session.get(NurtureEnrollment, send.enrollment_id)
        lead = session.get(Lead, send.lead_id)
        if enrollment is None or lead is None:
            return
        if state == SendState.BOUNCED:
            suppress_index(session, lead.email_index, "bounced")
            stop_enrollments(session, lead.id, "bounced")
            record_audit(
                session,
                actor="system",
                action="nurture.bounced",
                target_id=str(lead.id),
            )
            return
        if state == SendState.FAILED:
            enrollment.state = EnrollmentState.STOPPED
            enrollment.stop_reason = "delivery_failed"
            enrollment.next_due_at = None
            return
        sequence = self.sequences.get(enrollment.sequence)
        advance_enrollment(enrollment, sequence, lead, now, self.settings)

    def _retry_later(self, send_id: int, code: int, claimed: bool) -> Outcome:
        with self.sessions.begin() as session:
            send = session.get(NurtureSend, send_id)
            if send is None or send.state not in (SendState.QUEUED, SendState.SENDING):
                return Outcome.NOTHING_TO_DO
            if not claimed:
                send.attempts += 1
            attempts = send.attempts
            send.last_code = code
            if attempts < self.settings.nurture_max_attempts:
                send.state = SendState.QUEUED
                delay = retry_delay(attempts, self.settings)
                send.due_at = utcnow() + dt.timedelta(seconds=delay)
                return Outcome.RETRY
        self._settle(send_id, SendState.FAILED, code)
        return Outcome.FAILED

    def _defer(self, send_id: int, seconds: float) -> None:
        with self.sessions.begin() as session:
            send = session.get(NurtureSend, send_id)
            if send is not None and send.state == SendState.QUEUED:
                send.due_at = utcnow() + dt.timedelta(seconds=seconds)

    # -- the whole send --------------------------------------------------

    def send(self, send_id: int) -> Outcome:
        """Send one step if it is still due; return what happened.

        Raises:
            ConfigurationError: SMTP or DKIM settings are unusable.
            DecryptionError: the lead's fields cannot be opened.
        """
        outcome = self._send(send_id)
        if outcome in _METRIC_OF:
            record_email(_METRIC_OF[outcome])
        return outcome

    def _send(self, send_id: int) -> Outcome:
        prepared = self._prepare(send_id)
        if isinstance(prepared, Outcome):
            log.info("nurture.send send_id=%s outcome=%s", send_id, prepared)
            return prepared
        wait = self.throttle.acquire(prepared.domain)
        waited = 0.0
        while wait > 0:
            if waited + wait > MAX_INLINE_WAIT_SECONDS:
                self._defer(send_id, wait)
                log.info("nurture.send send_id=%s outcome=throttled", send_id)
                return Outcome.DEFERRED
            time.sleep(wait)
            waited += wait
            wait = self.throttle.acquire(prepared.domain)
        outcome = self._deliver(send_id, prepared)
        log.info("nurture.send send_id=%s outcome=%s", send_id, outcome)
        return outcome

    def _deliver(self, send_id: int, prepared: _Prepared) -> Outcome:
        claimed = False

        def claim() -> bool:
            nonlocal claimed
            claimed = self._claim(send_id)
            return claimed

        try:
            accepted = self.relay.deliver(
                sender=self.sender.addr_spec,
                recipient=prepared.email.to_address.reveal(),
                message=prepared.raw,
                smtputf8=prepared.email.needs_smtputf8,
                before_final_dot=claim,
            )
        except DeliveryOutcomeUnknownError:
            self._settle(send_id, SendState.UNCONFIRMED, None)
            return Outcome.UNCONFIRMED
        except PermanentDeliveryError as exc:
            if exc.stage in ("recipient", "message"):
                self._settle(send_id, SendState.BOUNCED, exc.code)
                return Outcome.BOUNCED
            return self._retry_later(send_id, exc.code, claimed)
        except TemporaryDeliveryError as exc:
            return self._retry_later(send_id, exc.code, claimed)
        if not accepted:
            return Outcome.CANCELLED
        self._accepted.append((send_id, utcnow()))
        return Outcome.SENT
