import base64
import json
import os
from pathlib import Path

import pytest

from leads.errors import KeyringError
from leads.keyring import (
    add_key_version,
    load_keyring_file,
    new_keyring_document,
    parse_keyring,
    write_keyring_file,
)


def _ring_file(tmp_path: Path) -> Path:
    path = tmp_path / "keyring.json"
    write_keyring_file(path, new_keyring_document())
    return path


def test_written_ring_is_owner_only(tmp_path: Path) -> None:
    path = _ring_file(tmp_path)
    assert (path.stat().st_mode & 0o777) == 0o600


def test_missing_file_stops_with_hint(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="leadguard keys init"):
        load_keyring_file(tmp_path / "absent.json")


def test_group_readable_file_is_refused(tmp_path: Path) -> None:
    path = _ring_file(tmp_path)
    os.chmod(path, 0o640)
    with pytest.raises(KeyringError, match="chmod 600"):
        load_keyring_file(path)


def test_short_key_is_refused(tmp_path: Path) -> None:
    document = new_keyring_document()
    document["keks"] = {"1": base64.b64encode(b"x" * 16).decode()}
    with pytest.raises(KeyringError, match="32 are required"):
        parse_keyring(json.dumps(document))


@pytest.mark.parametrize(
    "text", ["", "not json", "[]", '{"format": 1}', '{"format": 1, "keks": {}}']
)
def test_malformed_rings_are_refused(text: str) -> None:
    with pytest.raises(KeyringError):
        parse_keyring(text)


def test_key_material_never_in_repr_or_errors(tmp_path: Path) -> None:
    document = new_keyring_document()
    secret = document["keks"]["1"]  # type: ignore[index]
    ring = parse_keyring(json.dumps(document))
    assert secret not in repr(ring) and secret not in str(ring)
    document["active"] = 9
    with pytest.raises(KeyringError) as caught:
        parse_keyring(json.dumps(document))
    assert secret not in str(caught.value)


def test_derived_keys_differ_by_purpose_and_are_stable(tmp_path: Path) -> None:
    ring = load_keyring_file(_ring_file(tmp_path))
    assert ring.derive("a") == ring.derive("a")
    assert ring.derive("a") != ring.derive("b")
    assert len(ring.derive("a")) == 32


def test_ring_reloads_a_version_added_by_another_process(tmp_path: Path) -> None:
    path = _ring_file(tmp_path)
    ring = load_keyring_file(path)
    version = add_key_version(path)
    assert version == 2
    assert len(ring.kek(2)) == 32
    assert ring.active_version == 2
    with pytest.raises(KeyringError):
        ring.kek(7)
