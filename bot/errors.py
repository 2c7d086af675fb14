"""Errors of the bot-side modules (the Rasa environment cannot import leads).

They mirror :mod:`leads.errors`: one base, messages that never carry
conversation text, sender ids or key material.

.. code-block:: text

    BotError
     ├── TranscriptKeyError        the key ring is missing or malformed
     ├── TranscriptDecryptionError one opaque error for every failed decrypt
     └── TranscriptStoreError      the transcript database failed
"""


class BotError(Exception):
    """Base class of every error the bot-side modules raise on purpose."""


class TranscriptKeyError(BotError):
    """No usable key ring: the store refuses to run without a key."""


class TranscriptDecryptionError(BotError):
    """A stored transcript could not be decrypted.

    Raised alike for a tampered row, a row moved to another sender and a
    wrong key ring.
    """

    def __init__(self) -> None:
        super().__init__("transcript decryption failed")


class TranscriptStoreError(BotError):
    """The transcript database could not be read or written."""
