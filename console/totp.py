"""TOTP second factor and single-use recovery codes.

Codes are RFC 6238 (SHA-1, 6 digits, 30-second steps), accepted one step
either side of now for clock drift. The last accepted time step is stored
per user and a code of that step or an earlier one is refused, so an
observed code cannot be replayed. The enrollment QR code is rendered
locally as SVG; the secret never leaves the server except in that image.
"""

from __future__ import annotations

import datetime as dt
import secrets

import pyotp
import segno

ISSUER = "leadguard"
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_totp_secret() -> str:
    """Return a fresh random base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str) -> str:
    """Return the ``otpauth://`` URI an authenticator app imports."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def qr_svg_data_uri(uri: str) -> str:
    """Render ``uri`` as a QR code, an SVG ``data:`` URI made locally."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5))


def accepted_step(
    secret: str, code: str, last_step: int, now: dt.datetime | None = None
) -> int | None:
    """Return the time step a code belongs to, or None when it is refused.

    A code is refused when it is malformed, wrong, outside the drift window
    or of a step not later than ``last_step`` (already used or older).
    """
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    moment = now or dt.datetime.now(dt.UTC)
    totp = pyotp.TOTP(secret)
    current = totp.timecode(moment)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if step <= last_step:
            continue
        expected = totp.generate_otp(step)
        if secrets.compare_digest(expected, code):
            return step
    return None


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Return fresh recovery codes, each ``xxxxx-xxxxx`` (about 49 bits)."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def normalise_recovery_code(code: str) -> str:
    """Return a typed recovery code in its stored form (case, spaces)."""
    raw = "".join(ch for ch in code.lower() if ch.isalnum())
    return f"{raw[:5]}-{raw[5:]}"
