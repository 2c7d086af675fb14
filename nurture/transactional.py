"""One-off emails: admin alerts and the visitor's single-use links.

They take the same SMTP path as nurture emails (STARTTLS with certificate
verification unless the development sink is configured, DKIM when set, the
same header-injection guards), without sequences, suppression or
unsubscribe headers: a visitor asking for an access link gets it even after
unsubscribing from marketing.
"""

from __future__ import annotations

import logging

from leads.blind_index import normalise_email
from leads.personal import Personal
from leads.settings import Settings, get_settings
from nurture.dkim_signer import signer_for
from nurture.message import (
    OutgoingEmail,
    build_message,
    message_bytes,
    new_message_id,
    sender_address,
)
from nurture.relay import SmtpRelay

__all__ = ["send_transactional_email"]

log = logging.getLogger(__name__)


def send_transactional_email(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    settings: Settings | None = None,
) -> str:
    """Send one email now and return its Message-ID (without brackets).

    ``to`` is normalised (see :func:`leads.blind_index.normalise_email`);
    CR and LF in ``subject`` become spaces, so no header can be injected.
    Nothing about the recipient or the content is logged.

    Raises:
        InvalidInputError: ``to`` is not a valid email address.
        TemporaryDeliveryError: the relay is unreachable or answered 4xx.
        PermanentDeliveryError: the relay answered 5xx.
        ConfigurationError: the SMTP or DKIM settings are unusable.
    """
    settings = settings or get_settings()
    address = normalise_email(to)
    email = OutgoingEmail(
        to_address=Personal(address),
        to_name=None,
        subject=Personal(subject),
        text=Personal(text),
        html=Personal(html) if html is not None else None,
        message_id=new_message_id(settings),
    )
    raw = message_bytes(build_message(settings, email))
    signer = signer_for(settings)
    if signer is not None:
        raw = signer.sign(raw)
    relay = SmtpRelay(settings)
    try:
        relay.deliver(
            sender=sender_address(settings).addr_spec,
            recipient=address,
            message=raw,
            smtputf8=email.needs_smtputf8,
        )
    finally:
        relay.close()
    log.info("mail.transactional.sent message_id=%s", email.message_id)
    return email.message_id
