"""Checking passwords and second factors, with back-off and lockout.

Two defences work together:

* Back-off (the ``limits`` library; in memory or Redis by setting): more than
  5 failures a minute for one account, or 30 failures in 15 minutes from one
  client address, refuse further attempts until the window moves on.
* Lockout (in the database): after ``console_lockout_failures`` consecutive
  failures an account is locked for ``console_lockout_minutes`` or until an
  admin unlocks it.

Both record an audit event when they start. Client addresses are kept only
as keyed hashes. Limits: a lockout can be triggered on purpose by someone
who knows an address (a denial of service the admin can lift); in-memory
back-off counters are per process, use Redis with several replicas.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass

from limits import parse, storage, strategies
from sqlalchemy.orm import Session

from console.models import ConsoleUser
from console.passwords import verify_password
from console.sealing import keyed_hash
from console.users import accept_totp, find_user_by_email, use_recovery_code
from leads.audit import record_audit
from leads.keyring import KeyRing
from leads.models import utcnow
from leads.settings import Settings

log = logging.getLogger(__name__)

ACCOUNT_BACKOFF = parse("5/minute")
ADDRESS_LIMIT = parse("30/15 minutes")
NAMESPACE = "leadguard-signin"


class Outcome(enum.StrEnum):
    """What a sign-in attempt came to."""

    OK = "ok"
    WRONG = "wrong"
    BACKOFF = "backoff"
    ADDRESS_BLOCKED = "address_blocked"
    LOCKED = "locked"


MESSAGES = {
    Outcome.WRONG: "The email address or password is not right.",
    Outcome.BACKOFF: (
        "Too many failed attempts for this account. Wait a minute, then try again."
    ),
    Outcome.ADDRESS_BLOCKED: (
        "Too many failed sign-ins from your network. Try again in 15 minutes."
    ),
    Outcome.LOCKED: (
        "This account is locked after repeated failed sign-ins. Try again later "
        "or ask an admin to unlock it."
    ),
}


@dataclass(frozen=True)
class Attempt:
    """The result of a sign-in step."""

    outcome: Outcome
    user: ConsoleUser | None = None

    @property
    def message(self) -> str:
        """The message shown to the visitor."""
        return MESSAGES.get(self.outcome, "")


class SignInChecker:
    """Checks credentials under back-off and lockout rules."""

    def __init__(self, settings: Settings, keyring: KeyRing) -> None:
        self.settings = settings
        self.keyring = keyring
        self._limiter = strategies.MovingWindowRateLimiter(
            storage.storage_from_string(settings.console_rate_limit_storage)
        )

    def _address_key(self, address: str) -> str:
        return keyed_hash(self.keyring, "client-address", address)[:32]

    def _refusal(self, user: ConsoleUser | None, address_key: str) -> Outcome | None:
        if not self._limiter.test(ADDRESS_LIMIT, NAMESPACE, "a", address_key):
            return Outcome.ADDRESS_BLOCKED
        if user is None:
            return None
        if user.locked_until is not None and user.locked_until > utcnow():
            return Outcome.LOCKED
        if not self._limiter.test(ACCOUNT_BACKOFF, NAMESPACE, "u", str(user.id)):
            return Outcome.BACKOFF
        return None

    def _failed(
        self, session: Session, user: ConsoleUser | None, address_key: str
    ) -> Attempt:
        self._limiter.hit(ADDRESS_LIMIT, NAMESPACE, "a", address_key)
        target = str(user.id) if user is not None else None
        record_audit(
            session, actor="anonymous", action="signin.failed", target_id=target
        )
        if not self._limiter.test(ADDRESS_LIMIT, NAMESPACE, "a", address_key):
            record_audit(
                session,
                actor="system",
                action="signin.address_blocked",
                target_id=f"addr:{address_key[:16]}",
            )
            log.warning("console.address_blocked address=%s", address_key[:16])
        if user is None:
            return Attempt(Outcome.WRONG)
        self._limiter.hit(ACCOUNT_BACKOFF, NAMESPACE, "u", str(user.id))
        user.failed_attempts += 1
        if user.failed_attempts >= self.settings.console_lockout_failures:
            user.locked_until = utcnow() + dt.timedelta(
                minutes=self.settings.console_lockout_minutes
            )
            user.failed_attempts = 0
            record_audit(
                session, actor="system", action="user.locked", target_id=str(user.id)
            )
            log.warning("console.user_locked user=%s", user.id)
            return Attempt(Outcome.LOCKED)
        return Attempt(Outcome.WRONG)

    def check_password(
        self, session: Session, email: str, password: str, address: str
    ) -> Attempt:
        """Check an address and password.

        Returns an :class:`Attempt`; ``user`` is set only when the outcome is
        OK. A password hash with outdated parameters is replaced.
        """
        address_key = self._address_key(address)
        user = find_user_by_email(session, self.keyring, email)
        refusal = self._refusal(user, address_key)
        if refusal is not None:
            log.info("console.signin_refused outcome=%s", refusal.value)
            return Attempt(refusal)
        checked = verify_password(user.password_hash if user else None, password)
        if user is None or user.disabled or not checked.ok:
            return self._failed(session, user, address_key)
        if checked.new_hash is not None:
            user.password_hash = checked.new_hash
            log.info("console.password_rehashed user=%s", user.id)
        return Attempt(Outcome.OK, user)

    def check_second_factor(
        self, session: Session, user: ConsoleUser, code: str, address: str
    ) -> Attempt:
        """Check a TOTP code (replay-proof) or a single-use recovery code."""
        address_key = self._address_key(address)
        refusal = self._refusal(user, address_key)
        if refusal is not None:
            return Attempt(refusal)
        compact = code.strip().replace(" ", "")
        if compact.isdigit():
            accepted = accept_totp(session, self.keyring, user, compact)
        else:
            accepted = use_recovery_code(session, self.keyring, user, compact)
        if not accepted:
            return self._failed(session, user, address_key)
        return Attempt(Outcome.OK, user)

    def succeeded(self, session: Session, user: ConsoleUser) -> None:
        """Reset the failure count after a complete sign-in."""
        user.failed_attempts = 0
        user.last_sign_in_at = utcnow()
        record_audit(
            session, actor=f"user:{user.id}", action="signin.succeeded", target_id=None
        )
