"""Errors of the nurture package, all under :class:`leads.errors.LeadguardError`.

.. code-block:: text

    LeadguardError
     ├── SequenceDefinitionError (leads.errors)  a sequence file is invalid
     ├── UnsubscribeTokenError                   a token is forged or malformed
     └── MailDeliveryError                       SMTP did not take a message
          ├── TemporaryDeliveryError             try again later (4xx, network)
          │    └── DeliveryOutcomeUnknownError        lost after the final "." was sent
          └── PermanentDeliveryError             never retry (5xx)

Messages carry SMTP reply codes and short reasons, never an address, a
name or a message body.
"""

from __future__ import annotations

from leads.errors import LeadguardError, SequenceDefinitionError

__all__ = [
    "DeliveryOutcomeUnknownError",
    "MailDeliveryError",
    "PermanentDeliveryError",
    "SequenceDefinitionError",
    "TemporaryDeliveryError",
    "UnsubscribeTokenError",
]


class UnsubscribeTokenError(LeadguardError):
    """An unsubscribe token is malformed, forged or made with another key."""

    def __init__(self) -> None:
        super().__init__("invalid unsubscribe token")


class MailDeliveryError(LeadguardError):
    """The SMTP server did not accept a message.

    Attributes:
        code: the SMTP reply code, or 0 for a network or TLS failure.
        stage: where it failed: ``connect``, ``sender``, ``recipient``,
            ``data`` or ``message`` (the reply to the final ``.``).
    """

    def __init__(self, code: int, reason: str, stage: str = "connect") -> None:
        super().__init__(f"smtp {code} at {stage}: {reason}")
        self.code = code
        self.reason = reason
        self.stage = stage


class TemporaryDeliveryError(MailDeliveryError):
    """A failure worth retrying: a 4xx reply, a refused or lost connection."""


class PermanentDeliveryError(MailDeliveryError):
    """A 5xx reply: the address or the message will never be accepted."""


class DeliveryOutcomeUnknownError(TemporaryDeliveryError):
    """The connection broke after the final ``.``: the relay may have the message.

    Retrying could send it twice, so the sender records it as unconfirmed.
    """
