import secrets
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leads.errors import DecryptionError
from leads.field_cipher import field_aad, open_sealed, seal

KEY = secrets.token_bytes(32)
ROW = uuid.uuid4()


@given(st.text())
def test_round_trip_of_any_unicode(value: str) -> None:
    aad = field_aad("lead_personal", "name", ROW, 1)
    data = value.encode("utf-8", "surrogatepass")
    assert open_sealed(KEY, seal(KEY, data, aad), aad) == data


def test_fresh_nonce_each_time() -> None:
    aad = field_aad("t", "c", ROW, 1)
    assert seal(KEY, b"same", aad) != seal(KEY, b"same", aad)


@pytest.mark.parametrize(
    "other",
    [
        field_aad("lead_personal", "email", ROW, 1),
        field_aad("lead_personal", "name", uuid.uuid4(), 1),
        field_aad("other_table", "name", ROW, 1),
        field_aad("lead_personal", "name", ROW, 2),
    ],
)
def test_value_moved_elsewhere_does_not_open(other: bytes) -> None:
    sealed = seal(KEY, b"value", field_aad("lead_personal", "name", ROW, 1))
    with pytest.raises(DecryptionError):
        open_sealed(KEY, sealed, other)


def test_tampering_and_wrong_key_give_the_same_opaque_error() -> None:
    aad = field_aad("t", "c", ROW, 1)
    sealed = bytearray(seal(KEY, b"value", aad))
    sealed[-1] ^= 1
    with pytest.raises(DecryptionError) as tampered:
        open_sealed(KEY, bytes(sealed), aad)
    with pytest.raises(DecryptionError) as wrong_key:
        open_sealed(secrets.token_bytes(32), seal(KEY, b"value", aad), aad)
    assert str(tampered.value) == str(wrong_key.value) == "decryption failed"


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x02" + b"\x00" * 40])
def test_truncated_or_unknown_format_fails(blob: bytes) -> None:
    with pytest.raises(DecryptionError):
        open_sealed(KEY, blob, b"aad")
