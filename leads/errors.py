"""The one exception tree of leadguard.

Every error the project raises on purpose derives from :class:`LeadguardError`.
Edges (HTTP handlers, bot replies, the command line) translate these into a
generic message; the text of an error never carries personal data or key
material.

.. code-block:: text

    LeadguardError
     ├── ConfigurationError          a setting is missing or malformed
     ├── KeyringError                the key ring is missing, short or wrong
     ├── DecryptionError             one opaque error for every failed decrypt
     ├── InvalidInputError (ValueError)
     │    └── ImportRecordError      one bad line of a lead import
     ├── NotFoundError (LookupError)
     ├── ConsentError                processing without a current consent
     ├── AuditChainError             the audit chain failed verification
     ├── ScoringRulesError           the scoring rules file is invalid
     └── SequenceDefinitionError     a nurture sequence file is invalid
"""


class LeadguardError(Exception):
    """Base class of every error leadguard raises on purpose."""


class ConfigurationError(LeadguardError):
    """A setting is missing or malformed; the message names the setting."""


class KeyringError(LeadguardError):
    """The key ring is missing, unreadable, too short or does not match."""


class DecryptionError(LeadguardError):
    """A ciphertext could not be decrypted.

    Raised alike for a tampered ciphertext, one moved to another row or
    column, a wrong key or a destroyed data key, so that the error tells an
    attacker nothing about which check failed.
    """

    def __init__(self) -> None:
        super().__init__("decryption failed")


class InvalidInputError(LeadguardError, ValueError):
    """A value given by a user or a file is not acceptable."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class ImportRecordError(InvalidInputError):
    """One line of a lead import was rejected."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}", reason)
        self.line = line


class NotFoundError(LeadguardError, LookupError):
    """The requested record does not exist (or no longer exists)."""


class ConsentError(LeadguardError):
    """The subject has no current consent for the purpose."""


class AuditChainError(LeadguardError):
    """The audit chain is broken; the message names the first bad row."""


class ScoringRulesError(LeadguardError):
    """The scoring rules file is invalid; the message names file and line."""


class SequenceDefinitionError(LeadguardError):
    """A nurture sequence file is invalid; the message names file and line."""
