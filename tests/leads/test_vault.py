import threading
import uuid

import pytest
from sqlalchemy import select, update

from leads.consent import ConsentAnswer, may_use
from leads.errors import DecryptionError, InvalidInputError, KeyringError, NotFoundError
from leads.keyring import add_key_version, new_keyring_document, write_keyring_file
from leads.models import (
    Lead,
    LeadPersonal,
    OutboxEvent,
    Purpose,
    SubjectKey,
    Suppression,
)
from leads.settings import Settings, load_settings
from leads.vault import LeadInput, Vault

NOTICE = "1"


def _lead(email: str = "ana@acme.com.my", **extra: str) -> LeadInput:
    fields = {
        "name": "Ana Tan",
        "email": email,
        "company": "Acme Sdn Bhd",
        "job_title": "Head of IT",
        "need": "CRM integration",
        "phone": "012-345 6789",
    } | extra
    return LeadInput(**fields)


def _consents(email_ok: bool = True) -> list[ConsentAnswer]:
    return [
        ConsentAnswer(Purpose.SALES_CONTACT, True, NOTICE, "chat"),
        ConsentAnswer(Purpose.EMAIL_NURTURE, email_ok, NOTICE, "chat"),
    ]


def _capture(vault: Vault, lead: LeadInput, **kwargs: object) -> uuid.UUID:
    with vault.sessions.begin() as session:
        result = vault.capture_lead(
            session,
            lead,
            score=50,
            tier="warm",
            source="test",
            consents=kwargs.pop("consents", _consents()),  # type: ignore[arg-type]
            **kwargs,  # type: ignore[arg-type]
        )
    return result.lead_id


def test_capture_and_read_back(vault: Vault) -> None:
    lead_id = _capture(vault, _lead(), chat_session_id="s-1")
    with vault.sessions() as session:
        fields = vault.read_personal(session, lead_id)
        outbox = session.scalars(select(OutboxEvent)).all()
        assert may_use(session, lead_id, Purpose.EMAIL_NURTURE)
    assert fields["name"] is not None and fields["name"].reveal() == "Ana Tan"
    assert fields["phone"] is not None and fields["phone"].reveal() == "+60123456789"
    assert "Ana" not in repr(fields)
    assert [e.topic for e in outbox] == ["lead.qualified"]
    assert outbox[0].payload["lead_id"] == str(lead_id)


@pytest.mark.parametrize(
    "variant", ["  ANA@ACME.COM.MY ", "ana@Acme.Com.My", "Ana@acme.com.my"]
)
def test_same_person_twice_is_one_lead(vault: Vault, variant: str) -> None:
    first = _capture(vault, _lead())
    second = _capture(vault, _lead(variant, name="Ana T."))
    assert first == second
    with vault.sessions() as session:
        assert len(session.scalars(select(Lead)).all()) == 1
        assert vault.read_personal(session, first)["name"].reveal() == "Ana T."  # type: ignore[union-attr]


def test_internationalised_domain_matches_its_ascii_form(vault: Vault) -> None:
    lead_id = _capture(vault, _lead("siti@bücher.my"))
    with vault.sessions() as session:
        assert vault.find_lead_id(session, "SITI@xn--bcher-kva.my") == lead_id


def test_lookup_does_not_decrypt(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    lead_id = _capture(vault, _lead())

    def refuse(*args: object) -> bytes:
        raise AssertionError("a lookup decrypted something")

    monkeypatch.setattr("leads.vault.open_sealed", refuse)
    with vault.sessions() as session:
        assert vault.find_lead_id(session, "ana@acme.com.my") == lead_id
        assert vault.find_lead_id(session, "nobody@acme.com.my") is None


def test_ciphertext_swapped_between_columns_fails(vault: Vault) -> None:
    lead_id = _capture(vault, _lead())
    with vault.sessions.begin() as session:
        row = session.get(LeadPersonal, lead_id)
        assert row is not None
        row.name, row.company = row.company, row.name
    with vault.sessions() as session, pytest.raises(DecryptionError):
        vault.read_personal(session, lead_id)


def test_ciphertext_copied_to_another_row_fails(vault: Vault) -> None:
    first = _capture(vault, _lead())
    second = _capture(vault, _lead("bob@acme.com.my"))
    with vault.sessions.begin() as session:
        source = session.get(LeadPersonal, first)
        assert source is not None
        session.execute(
            update(LeadPersonal)
            .where(LeadPersonal.lead_id == second)
            .values(name=source.name)
        )
        # Even with the first subject's data key, the row binding fails.
        key = session.get(SubjectKey, first)
        assert key is not None
        session.execute(
            update(SubjectKey)
            .where(SubjectKey.subject_id == second)
            .values(wrapped_key=key.wrapped_key)
        )
    with vault.sessions() as session, pytest.raises(DecryptionError):
        vault.read_personal(session, second)


def test_wrong_key_ring_fails_closed(vault: Vault, db_settings: Settings) -> None:
    _capture(vault, _lead())
    other = db_settings.var_dir / "other-keyring.json"
    write_keyring_file(other, new_keyring_document())
    wrong = load_settings(
        var_dir=db_settings.var_dir,
        keyring_file=other,
        database_url=db_settings.database_url,
    )
    with pytest.raises(KeyringError, match="wrong key ring"):
        Vault.from_settings(wrong)


def test_invalid_input_writes_nothing(vault: Vault) -> None:
    for bad in (_lead("not-an-email"), _lead(name="x" * 5000), _lead(phone="12")):
        with pytest.raises(InvalidInputError):
            _capture(vault, bad)
    with vault.sessions() as session:
        assert session.scalars(select(Lead)).all() == []


def test_erasure_leaves_only_suppression_and_is_idempotent(vault: Vault) -> None:
    lead_id = _capture(vault, _lead(), chat_session_id="s-9")
    with vault.sessions.begin() as session:
        report = vault.erase_subject(session, lead_id, actor="test")
    assert report.removed["data_keys"] == 1
    with vault.sessions.begin() as session:
        again = vault.erase_subject(session, lead_id, actor="test")
        assert sum(again.removed.values()) == 0
        assert vault.find_lead_id(session, "ana@acme.com.my") is None
        assert vault.is_suppressed(session, "ANA@acme.com.my")
        assert len(session.scalars(select(Suppression)).all()) == 1
        with pytest.raises(NotFoundError):
            vault.export_subject(session, lead_id)
        assert not may_use(session, lead_id, Purpose.SALES_CONTACT)


def test_export_holds_fields_and_consents(vault: Vault) -> None:
    lead_id = _capture(vault, _lead(), consents=_consents(email_ok=False))
    with vault.sessions() as session:
        document = vault.export_subject(session, lead_id)
    assert document["fields"]["email"] == "ana@acme.com.my"
    assert {(c["purpose"], c["granted"]) for c in document["consents"]} == {
        ("sales_contact", True),
        ("email_nurture", False),
    }


def test_rotation_under_concurrent_reads_loses_nothing(
    vault: Vault, db_settings: Settings
) -> None:
    ids = [_capture(vault, _lead(f"user{n}@acme.com.my")) for n in range(60)]
    assert db_settings.keyring_file is not None
    failures: list[BaseException] = []
    stop = threading.Event()
    reader = Vault.from_settings(db_settings)

    def read_forever() -> None:
        while not stop.is_set():
            for lead_id in ids:
                try:
                    with reader.sessions() as session:
                        reader.read_personal(session, lead_id)
                except BaseException as exc:
                    failures.append(exc)

    thread = threading.Thread(target=read_forever)
    thread.start()
    try:
        add_key_version(db_settings.keyring_file)
        rotator = Vault.from_settings(db_settings)
        assert rotator.rewrap_all(batch_size=7) == 60
    finally:
        stop.set()
        thread.join()
    assert failures == []
    with rotator.sessions() as session:
        versions = set(session.scalars(select(SubjectKey.kek_version)))
        assert versions == {2}
        assert all(rotator.read_personal(session, i)["email"] for i in ids)
