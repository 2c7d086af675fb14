"""Building outgoing email messages so that no field can inject a header.

Every header is set through :mod:`email.headerregistry` on an
:class:`~email.message.EmailMessage` under the SMTP policy, and every value
that came from a template or a lead first has its control characters (CR,
LF and the rest) replaced by spaces. A name or a subject therefore always
stays inside its own header.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from urllib.parse import quote

from leads.errors import ConfigurationError
from leads.personal import Personal
from leads.settings import Settings

__all__ = [
    "OutgoingEmail",
    "build_message",
    "clean_header_text",
    "new_message_id",
    "sender_address",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")
MAX_SUBJECT_CHARS = 200
ONE_CLICK = "List-Unsubscribe=One-Click"


def clean_header_text(value: str, limit: int = MAX_SUBJECT_CHARS) -> str:
    """Return ``value`` on one line: control characters become one space."""
    return _CONTROL.sub(" ", value).strip()[:limit]


def sender_address(settings: Settings) -> Address:
    """Parse ``LEADGUARD_MAIL_FROM`` into an address.

    Raises:
        ConfigurationError: the setting is not a valid address.
    """
    name, addr = parseaddr(settings.mail_from)
    if "@" not in addr or _CONTROL.search(settings.mail_from):
        raise ConfigurationError("LEADGUARD_MAIL_FROM: not a valid address")
    local, domain = addr.rsplit("@", 1)
    return Address(display_name=name, username=local, domain=domain)


def new_message_id(settings: Settings) -> str:
    """Return a new Message-ID value without angle brackets.

    It is random and names no person; it is stored with the send record so
    every retry carries the same one.
    """
    return f"{uuid.uuid4().hex}.lg@{sender_address(settings).domain}"


@dataclass(frozen=True, repr=False)
class OutgoingEmail:
    """One rendered email, with its personal parts wrapped."""

    to_address: Personal[str]
    to_name: Personal[str] | None
    subject: Personal[str]
    text: Personal[str]
    html: Personal[str] | None
    message_id: str
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None

    def __repr__(self) -> str:
        return f"OutgoingEmail(message_id={self.message_id!r})"

    @property
    def needs_smtputf8(self) -> bool:
        """Whether the recipient's local part is not ASCII."""
        return not self.to_address.reveal().isascii()


def _recipient(email: OutgoingEmail) -> Address:
    local, domain = email.to_address.reveal().rsplit("@", 1)
    name = clean_header_text(email.to_name.reveal(), 120) if email.to_name else ""
    return Address(display_name=name, username=local, domain=domain)


def build_message(settings: Settings, email: OutgoingEmail) -> EmailMessage:
    """Return the MIME message of ``email`` (text, and HTML when given).

    When the email has an unsubscribe URL, ``List-Unsubscribe`` carries it
    and a mailto, and ``List-Unsubscribe-Post`` asks for RFC 8058 one-click.

    Raises:
        ValueError: an address is malformed (the email library refuses it).
    """
    chosen = policy.SMTPUTF8 if email.needs_smtputf8 else policy.SMTP
    message = EmailMessage(policy=chosen)
    message["From"] = sender_address(settings)
    message["To"] = _recipient(email)
    message["Subject"] = clean_header_text(email.subject.reveal())
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{email.message_id}>"
    if email.unsubscribe_url:
        targets = [f"<{email.unsubscribe_url}>"]
        if email.unsubscribe_mailto:
            # Already a mailto URL body (address?subject=...): keep its
            # delimiters and escapes, quote anything else.
            mailto = quote(email.unsubscribe_mailto, safe="@?=&%")
            targets.append(f"<mailto:{mailto}>")
        message["List-Unsubscribe"] = ", ".join(targets)
        message["List-Unsubscribe-Post"] = ONE_CLICK
    message.set_content(email.text.reveal(), cte="quoted-printable")
    if email.html is not None:
        message.add_alternative(
            email.html.reveal(), subtype="html", cte="quoted-printable"
        )
    return message


# Headers fold at RFC 5322's hard limit instead of 78 columns: a URL longer
# than a line would otherwise be folded into RFC 2047 encoded words, which
# mail clients do not decode in List-Unsubscribe. Bodies were already
# encoded (quoted-printable, 76 columns) when their content was set.
WIRE_HEADER_LINE_LENGTH = 998


def message_bytes(message: EmailMessage) -> bytes:
    """Serialise a message with CRLF line endings, as SMTP wants it."""
    wire = message.policy.clone(max_line_length=WIRE_HEADER_LINE_LENGTH)
    return message.as_bytes(policy=wire)
