"""Messages: no header injection, unsubscribe headers, DKIM over both."""

from __future__ import annotations

import email
import email.policy
import uuid

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from leads.keyring import new_keyring_document, parse_keyring
from leads.personal import Personal
from leads.settings import Settings, load_settings
from nurture.dkim_signer import DkimSigner
from nurture.errors import UnsubscribeTokenError
from nurture.message import OutgoingEmail, build_message, message_bytes
from nurture.tokens import open_unsubscribe_token, unsubscribe_token


def _email(name: str, subject: str, url: str | None = None) -> OutgoingEmail:
    return OutgoingEmail(
        to_address=Personal("ana@example.com"),
        to_name=Personal(name),
        subject=Personal(subject),
        text=Personal("hello\n.\nnot the end\n"),
        html=Personal("<p>hello</p>"),
        message_id="abc.lg@leadguard.example",
        unsubscribe_url=url,
        unsubscribe_mailto="unsubscribe@leadguard.example?subject=unsubscribe%20t",
    )


@pytest.mark.parametrize(
    "evil",
    [
        "Ana\r\nBcc: victim@evil.example",
        "Ana\nBcc: victim@evil.example",
        "Ana\rBcc: victim@evil.example",
        "Ana\u2028Bcc: victim@evil.example",
    ],
)
def test_cr_lf_in_name_or_subject_cannot_add_a_header(
    settings: Settings, evil: str
) -> None:
    raw = message_bytes(build_message(settings, _email(evil, f"Offer {evil}")))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in header_block
    assert parsed["To"].addresses[0].addr_spec == "ana@example.com"
    assert "Bcc: victim" in parsed["Subject"]


def test_unsubscribe_headers(settings: Settings) -> None:
    url = "https://leads.example.com/unsubscribe/TOKEN"
    parsed = email.message_from_bytes(
        message_bytes(build_message(settings, _email("Ana", "Hi", url))),
        policy=email.policy.default,
    )
    assert parsed["List-Unsubscribe"].startswith(f"<{url}>, <mailto:")
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Message-ID"] == "<abc.lg@leadguard.example>"


def test_unsubscribe_header_is_plain_on_the_wire(settings: Settings) -> None:
    """Mail clients read List-Unsubscribe raw: no encoded words, a usable mailto."""
    url = "https://leads.example.com/unsubscribe/" + "T" * 90
    raw = message_bytes(build_message(settings, _email("Ana", "Hi", url)))
    header_block = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = header_block.replace("\r\n ", " ").replace("\r\n\t", " ")
    line = next(h for h in unfolded.split("\r\n") if h.startswith("List-Unsubscribe:"))
    assert "=?" not in line
    assert line == (
        f"List-Unsubscribe: <{url}>, "
        "<mailto:unsubscribe@leadguard.example?subject=unsubscribe%20t>"
    )
    body_lines = raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n")
    assert max(len(body_line) for body_line in body_lines) <= 78


def test_dkim_signature_covers_both_unsubscribe_headers(settings: Settings) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + __import__("base64").b64encode(public)
    url = "https://leads.example.com/unsubscribe/TOKEN"
    raw = message_bytes(build_message(settings, _email("Ana", "Hi", url)))
    signed = DkimSigner("leadguard.example", "s1", private).sign(raw)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"s1._domainkey.leadguard.example."
        return record

    assert dkim.verify(signed, dnsfunc=dns)
    signature = signed.split(b"\r\n\r\n")[0].decode().replace("\r\n", "")
    signed_headers = signature.split("h=")[1].split(";")[0].replace(" ", "").lower()
    assert "list-unsubscribe:" in signed_headers + ":"
    assert "list-unsubscribe-post" in signed_headers
    tampered = signed.replace(b"/unsubscribe/TOKEN", b"/unsubscribe/OTHER", 1)
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_tokens_are_opaque_and_authenticated() -> None:
    ring = parse_keyring(__import__("json").dumps(new_keyring_document()))
    other = parse_keyring(__import__("json").dumps(new_keyring_document()))
    lead_id = uuid.uuid4()
    token = unsubscribe_token(ring, lead_id)
    assert lead_id.hex not in token and str(lead_id) not in token
    assert open_unsubscribe_token(ring, token) == lead_id
    assert unsubscribe_token(ring, lead_id) != token
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x", "", "é" * 10):
        with pytest.raises(UnsubscribeTokenError):
            open_unsubscribe_token(ring, bad)
    with pytest.raises(UnsubscribeTokenError):
        open_unsubscribe_token(other, token)


def test_dev_sink_is_refused_in_production_or_off_loopback() -> None:
    from leads.errors import ConfigurationError
    from nurture.relay import check_relay_settings

    with pytest.raises(ConfigurationError, match="loopback"):
        check_relay_settings(load_settings(smtp_host="smtp.example.com"))
    check_relay_settings(
        load_settings(smtp_host="smtp.example.com", smtp_security="starttls")
    )
