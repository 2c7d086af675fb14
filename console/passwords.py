"""Password hashing with argon2id, rehashed when the parameters change.

Passwords of 12 to 1024 characters are accepted (long passphrases are
welcome; the upper bound only keeps hashing cost bounded).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from leads.errors import InvalidInputError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 defaults


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash verified when the account is unknown or has no password yet.

    An unknown address then costs as much time as a wrong password.
    """
    return hasher.hash("leadguard-dummy-password")


@dataclass(frozen=True)
class PasswordCheck:
    """Outcome of :func:`verify_password`."""

    ok: bool
    new_hash: str | None = None


def check_password_policy(password: str) -> None:
    """Reject a password that is too short or too long.

    Raises:
        InvalidInputError: the length is outside the accepted range.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(
            "password", f"needs at least {MIN_PASSWORD_LENGTH} characters"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInputError(
            "password", f"may have at most {MAX_PASSWORD_LENGTH} characters"
        )


def hash_password(password: str) -> str:
    """Return the argon2id hash of a password that meets the policy.

    Raises:
        InvalidInputError: the password does not meet the policy.
    """
    check_password_policy(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> PasswordCheck:
    """Check a password; return a fresh hash when the parameters changed.

    A missing hash (no password set yet) and an over-long password fail
    after the same work as a wrong password.
    """
    if len(password) > MAX_PASSWORD_LENGTH:
        password = password[:MAX_PASSWORD_LENGTH]
        stored_hash = None
    try:
        _hasher.verify(stored_hash or _dummy_hash(_hasher), password)
    except (VerificationError, InvalidHashError):
        return PasswordCheck(False)
    if stored_hash is None:
        return PasswordCheck(False)
    if _hasher.check_needs_rehash(stored_hash):
        return PasswordCheck(True, _hasher.hash(password))
    return PasswordCheck(True)
