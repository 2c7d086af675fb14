"""Console user accounts: creation, setup links, roles, TOTP, recovery codes.

Every function works in the caller's transaction. Email addresses are
stored sealed and found through a keyed hash; setup tokens and recovery
codes only as keyed hashes. State-changing functions record an audit event.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from console.access import Role
from console.models import ConsoleUser, RecoveryCode
from console.passwords import hash_password
from console.sealing import keyed_hash, open_user_field, seal_user_field
from console.sessions import end_user_sessions
from console.totp import (
    accepted_step,
    new_recovery_codes,
    new_totp_secret,
    normalise_recovery_code,
)
from leads.audit import record_audit
from leads.blind_index import normalise_email
from leads.errors import InvalidInputError, NotFoundError
from leads.keyring import KeyRing
from leads.models import utcnow
from leads.settings import Settings

log = logging.getLogger(__name__)

SETUP_TOKEN_PURPOSE = "setup-token"  # noqa: S105 - a key purpose label
RECOVERY_PURPOSE = "recovery-code"
EMAIL_PURPOSE = "user-email"


def email_lookup_hash(keyring: KeyRing, email: str) -> bytes:
    """Return the keyed lookup hash of a staff address (normalised first).

    Raises:
        InvalidInputError: the address is not a valid email address.
    """
    return bytes.fromhex(keyed_hash(keyring, EMAIL_PURPOSE, normalise_email(email)))


def user_email(keyring: KeyRing, user: ConsoleUser) -> str:
    """Return a user's email address (staff data, shown to admins only)."""
    return open_user_field(keyring, "email", user.id, user.email_sealed)


def find_user_by_email(
    session: Session, keyring: KeyRing, email: str
) -> ConsoleUser | None:
    """Find a user by address without decrypting anything."""
    try:
        index = email_lookup_hash(keyring, email)
    except InvalidInputError:
        return None
    return session.scalar(select(ConsoleUser).where(ConsoleUser.email_index == index))


def parse_role(value: str) -> Role:
    """Return the role named ``value``.

    Raises:
        InvalidInputError: no such role.
    """
    try:
        return Role(value)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InvalidInputError("role", f"must be one of {names}") from None


def setup_url(settings: Settings, token: str) -> str:
    """Return the one-time setup link for a token."""
    return f"{settings.public_base_url.rstrip('/')}/console/setup/{token}"


def create_user(
    session: Session,
    keyring: KeyRing,
    settings: Settings,
    *,
    email: str,
    role: Role,
    actor: str,
) -> tuple[ConsoleUser, str]:
    """Create a user without a password; return it and its setup link.

    Raises:
        InvalidInputError: the address is invalid or already has an account.
    """
    normalised = normalise_email(email)
    index = email_lookup_hash(keyring, normalised)
    if session.scalar(select(ConsoleUser.id).where(ConsoleUser.email_index == index)):
        raise InvalidInputError("email", "already has an account")
    user_id = uuid.uuid4()
    user = ConsoleUser(
        id=user_id,
        email_index=index,
        email_sealed=seal_user_field(keyring, "email", user_id, normalised),
        role=role.value,
        totp_confirmed=False,
        totp_last_step=0,
        disabled=False,
        failed_attempts=0,
    )
    session.add(user)
    session.flush()
    link = issue_setup_link(session, keyring, settings, user)
    record_audit(session, actor=actor, action="user.created", target_id=str(user_id))
    log.info("console.user_created role=%s", role.value)
    return user, link


def issue_setup_link(
    session: Session, keyring: KeyRing, settings: Settings, user: ConsoleUser
) -> str:
    """Give a user a new one-time setup link (password and TOTP from scratch).

    The previous link, password, TOTP secret, recovery codes and sessions
    stop working.
    """
    token = secrets.token_urlsafe(32)
    user.setup_token_hash = keyed_hash(keyring, SETUP_TOKEN_PURPOSE, token)
    user.setup_expires_at = utcnow() + dt.timedelta(
        hours=settings.console_setup_link_hours
    )
    user.password_hash = None
    user.totp_sealed = None
    user.totp_confirmed = False
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_user_sessions(session, user.id)
    session.flush()
    return setup_url(settings, token)


def user_by_setup_token(
    session: Session, keyring: KeyRing, token: str
) -> ConsoleUser | None:
    """Return the user a live setup token belongs to, or None."""
    if not token or len(token) > 100:
        return None
    hashed = keyed_hash(keyring, SETUP_TOKEN_PURPOSE, token)
    user = session.scalar(
        select(ConsoleUser).where(ConsoleUser.setup_token_hash == hashed)
    )
    if user is None or user.disabled or user.setup_expires_at is None:
        return None
    if user.setup_expires_at < utcnow():
        return None
    return user


def complete_setup_password(
    session: Session, keyring: KeyRing, user: ConsoleUser, password: str
) -> None:
    """Set the password from a setup link and start TOTP enrollment.

    Raises:
        InvalidInputError: the password does not meet the policy.
    """
    user.password_hash = hash_password(password)
    user.setup_token_hash = None
    user.setup_expires_at = None
    user.totp_sealed = seal_user_field(keyring, "totp", user.id, new_totp_secret())
    user.totp_confirmed = False
    user.totp_last_step = 0
    user.failed_attempts = 0
    user.locked_until = None
    record_audit(
        session, actor=f"user:{user.id}", action="user.password_set", target_id=None
    )
    session.flush()


def totp_secret(keyring: KeyRing, user: ConsoleUser) -> str:
    """Return a user's TOTP secret.

    Raises:
        NotFoundError: the user has no TOTP secret (setup not done).
    """
    if user.totp_sealed is None:
        raise NotFoundError("no TOTP secret for this user")
    return open_user_field(keyring, "totp", user.id, user.totp_sealed)


def accept_totp(
    session: Session, keyring: KeyRing, user: ConsoleUser, code: str
) -> bool:
    """Check a TOTP code and burn its time step; False when refused.

    The step is stored with a conditional update, so two requests racing
    with the same code cannot both succeed.
    """
    if user.totp_sealed is None:
        return False
    step = accepted_step(totp_secret(keyring, user), code, user.totp_last_step)
    if step is None:
        return False
    result = session.execute(
        update(ConsoleUser)
        .where(ConsoleUser.id == user.id)
        .where(ConsoleUser.totp_last_step < step)
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        return False
    session.refresh(user)
    return True


def confirm_totp_enrollment(
    session: Session, keyring: KeyRing, user: ConsoleUser, code: str
) -> list[str] | None:
    """Finish enrollment with a first code; return new recovery codes.

    Returns None when the code is refused. The codes are shown once; only
    their keyed hashes are kept.
    """
    if not accept_totp(session, keyring, user, code):
        return None
    user.totp_confirmed = True
    codes = new_recovery_codes()
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    for recovery in codes:
        session.add(
            RecoveryCode(
                user_id=user.id,
                code_hash=keyed_hash(keyring, RECOVERY_PURPOSE, recovery),
            )
        )
    record_audit(
        session, actor=f"user:{user.id}", action="user.mfa_enrolled", target_id=None
    )
    session.flush()
    return codes


def use_recovery_code(
    session: Session, keyring: KeyRing, user: ConsoleUser, code: str
) -> bool:
    """Spend one recovery code of ``user``; False when unknown or used."""
    hashed = keyed_hash(keyring, RECOVERY_PURPOSE, normalise_recovery_code(code))
    result = session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id)
        .where(RecoveryCode.code_hash == hashed)
        .where(RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    used = int(getattr(result, "rowcount", 0) or 0) == 1
    if used:
        record_audit(
            session,
            actor=f"user:{user.id}",
            action="user.recovery_code_used",
            target_id=None,
        )
    return used


def remaining_recovery_codes(session: Session, user_id: uuid.UUID) -> int:
    """Count a user's unused recovery codes."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user_id)
            .where(RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def set_role(session: Session, user: ConsoleUser, role: Role, *, actor: str) -> None:
    """Change a user's role; their sessions end so the change applies now."""
    user.role = role.value
    end_user_sessions(session, user.id)
    record_audit(
        session, actor=actor, action="user.role_changed", target_id=str(user.id)
    )


def set_disabled(
    session: Session, user: ConsoleUser, disabled: bool, *, actor: str
) -> None:
    """Disable (ending every session) or re-enable a user."""
    user.disabled = disabled
    if disabled:
        end_user_sessions(session, user.id)
    action = "user.disabled" if disabled else "user.enabled"
    record_audit(session, actor=actor, action=action, target_id=str(user.id))


def unlock(session: Session, user: ConsoleUser, *, actor: str) -> None:
    """Lift a brute-force lockout."""
    user.locked_until = None
    user.failed_attempts = 0
    record_audit(session, actor=actor, action="user.unlocked", target_id=str(user.id))


def end_sessions_of(session: Session, user: ConsoleUser, *, actor: str) -> int:
    """End a user's sessions (admin action); return how many ended."""
    count = end_user_sessions(session, user.id)
    record_audit(
        session, actor=actor, action="user.sessions_ended", target_id=str(user.id)
    )
    return count


def ensure_first_admin(
    session: Session, keyring: KeyRing, settings: Settings, email: str
) -> str | None:
    """Create the first admin unless an admin exists; return its setup link.

    Idempotent: returns None when any admin account already exists.
    """
    exists = session.scalar(
        select(ConsoleUser.id).where(ConsoleUser.role == Role.ADMIN.value).limit(1)
    )
    if exists is not None:
        return None
    _, link = create_user(
        session, keyring, settings, email=email, role=Role.ADMIN, actor="system"
    )
    return link


def admins_emails(session: Session, keyring: KeyRing) -> list[str]:
    """Return the addresses of enabled admins (for alerts)."""
    admins = session.scalars(
        select(ConsoleUser)
        .where(ConsoleUser.role == Role.ADMIN.value)
        .where(ConsoleUser.disabled.is_(False))
    )
    return [user_email(keyring, admin) for admin in admins]
