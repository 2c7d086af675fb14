"""The vault: the only way personal data is written, read, exported or erased.

Each lead has its own 256-bit data key, wrapped by the key ring's active
key-encryption key (AES-256-GCM, associated data naming the subject and the
KEK version). Personal fields are sealed under the data key with associated
data naming table, column, row and key version (:mod:`leads.field_cipher`).
Email lookups use a keyed blind index and never decrypt or scan rows.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from leads import consent as ledger
from leads.audit import record_audit
from leads.blind_index import blind_index_for_email, normalise_email
from leads.database import session_factory
from leads.errors import DecryptionError, KeyringError, NotFoundError
from leads.field_cipher import field_aad, open_sealed, seal
from leads.keyring import KEY_BYTES, KeyRing, load_keyring_file, parse_keyring
from leads.models import (
    PERSONAL_FIELDS,
    CallbackRequest,
    ConsentRecord,
    KeyCheck,
    Lead,
    LeadChatSession,
    LeadPersonal,
    OutboxEvent,
    PrivacyRequest,
    SubjectKey,
    Suppression,
    utcnow,
)
from leads.personal import Personal
from leads.settings import Settings, get_settings
from leads.validation import clean_text, normalise_phone

log = logging.getLogger(__name__)

PERSONAL_TABLE = LeadPersonal.__tablename__
KEY_CHECK_PLAINTEXT = b"leadguard key check v1"


@dataclass(frozen=True, repr=False)
class LeadInput:
    """The personal and qualifying fields of a lead, before validation."""

    name: str
    email: str
    company: str
    job_title: str
    need: str | None = None
    phone: str | None = None
    company_size: str | None = None
    timeline: str | None = None
    budget: str | None = None
    time_zone: str = "Asia/Kuala_Lumpur"

    def __repr__(self) -> str:
        return "LeadInput(«redacted»)"

    def validated(self) -> LeadInput:
        """Return a copy with every field cleaned and checked.

        Raises:
            InvalidInputError: a field is empty, too long or malformed.
        """
        return dataclasses.replace(
            self,
            name=clean_text("name", self.name),
            email=normalise_email(self.email),
            company=clean_text("company", self.company),
            job_title=clean_text("job_title", self.job_title),
            need=clean_text("need", self.need) if self.need else None,
            phone=normalise_phone(self.phone) if self.phone else None,
        )


@dataclass(frozen=True)
class CaptureResult:
    """What :meth:`Vault.capture_lead` did."""

    lead_id: uuid.UUID
    created: bool


@dataclass(frozen=True)
class ErasureReport:
    """What :meth:`Vault.erase_subject` removed, as counts per store."""

    lead_id: uuid.UUID
    removed: dict[str, int]


def load_keyring(settings: Settings) -> KeyRing:
    """Load the key ring named by the settings.

    Raises:
        KeyringError: no ring is configured, or it is unreadable or malformed.
    """
    if settings.keyring is not None:
        return parse_keyring(settings.keyring.get_secret_value())
    if settings.keyring_file is None:
        raise KeyringError("set LEADGUARD_KEYRING_FILE or LEADGUARD_KEYRING")
    return load_keyring_file(settings.keyring_file)


ErasureStep = Callable[[Session, uuid.UUID], int]
_erasure_steps: dict[str, ErasureStep] = {}


def register_erasure_step(store: str, step: ErasureStep) -> None:
    """Add a step that erases a subject from another store.

    Steps run inside the erasure's transaction, before the lead row goes,
    and return how many records they removed.
    """
    _erasure_steps[store] = step


class Vault:
    """Writes, reads, exports and erases personal data; nothing else does."""

    def __init__(self, keyring: KeyRing, sessions: sessionmaker[Session]) -> None:
        self.keyring = keyring
        self.sessions = sessions

    def __repr__(self) -> str:
        return f"Vault({self.keyring!r})"

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Vault:
        """Open the vault of the configured database and key ring.

        Raises:
            KeyringError: the ring is missing, malformed or does not match
                the database.
        """
        settings = settings or get_settings()
        vault = cls(load_keyring(settings), session_factory(settings))
        with vault.sessions.begin() as session:
            vault.verify_keys(session)
        return vault

    # -- keys -------------------------------------------------------------

    def verify_keys(self, session: Session) -> None:
        """Check the ring against the key checks stored in the database.

        The first process to see a KEK version stores a check value sealed
        under it; every later start opens those values, so a wrong or
        swapped key ring stops the program before it touches any data.

        Raises:
            KeyringError: a KEK or the root does not match the database.
        """
        for version in self.keyring.versions:
            name = f"kek:{version}"
            aad = name.encode()
            check = session.get(KeyCheck, name)
            kek = self.keyring.kek(version)
            if check is None:
                session.add(
                    KeyCheck(name=name, value=seal(kek, KEY_CHECK_PLAINTEXT, aad))
                )
                continue
            try:
                open_sealed(kek, check.value, aad)
            except DecryptionError:
                raise KeyringError(
                    f"key-encryption key version {version} does not match this "
                    "database: wrong key ring"
                ) from None
        root_check = seal(
            self.keyring.derive("key-check"), KEY_CHECK_PLAINTEXT, b"root"
        )
        stored = session.get(KeyCheck, "root")
        if stored is None:
            session.add(KeyCheck(name="root", value=root_check))
        else:
            try:
                open_sealed(self.keyring.derive("key-check"), stored.value, b"root")
            except DecryptionError:
                raise KeyringError(
                    "the key ring's root key does not match this database: "
                    "wrong key ring"
                ) from None
        session.flush()

    def _wrap(self, subject_id: uuid.UUID, data_key: bytes, version: int) -> bytes:
        aad = f"leadguard/dek|{subject_id}|{version}".encode()
        return seal(self.keyring.kek(version), data_key, aad)

    def _unwrap(self, key_row: SubjectKey) -> bytes:
        aad = f"leadguard/dek|{key_row.subject_id}|{key_row.kek_version}".encode()
        return open_sealed(
            self.keyring.kek(key_row.kek_version), key_row.wrapped_key, aad
        )

    def _data_key(self, session: Session, subject_id: uuid.UUID) -> tuple[bytes, int]:
        key_row = session.get(SubjectKey, subject_id)
        if key_row is None:
            raise NotFoundError("no data key for this subject")
        return self._unwrap(key_row), key_row.key_version

    def rewrap_batch(
        self, session: Session, batch_size: int, after: uuid.UUID | None = None
    ) -> tuple[int, uuid.UUID | None]:
        """Re-wrap up to ``batch_size`` data keys under the active KEK.

        Keys are visited in subject order after ``after`` (keyset paging, so
        each batch costs the same however far the rotation has come). Each
        row is updated only if it still holds the version that was read, so
        a concurrent erasure or rotation is never overwritten. Readers keep
        working throughout: a row is always wrapped under a version the ring
        holds.

        Returns:
            How many keys were re-wrapped and the last subject id visited
            (None when no key is left after ``after``).
        """
        active = self.keyring.active_version
        query = select(SubjectKey).order_by(SubjectKey.subject_id).limit(batch_size)
        if after is not None:
            query = query.where(SubjectKey.subject_id > after)
        rows = list(session.scalars(query))
        stale = [row for row in rows if row.kek_version != active]
        now = utcnow()
        changes = [
            {
                "sid": row.subject_id,
                "old": row.kek_version,
                "new": active,
                "wrapped": self._wrap(row.subject_id, self._unwrap(row), active),
                "now": now,
            }
            for row in stale
        ]
        if changes:
            table = cast(Table, SubjectKey.__table__)
            statement = (
                update(table)
                .where(table.c.subject_id == bindparam("sid"))
                .where(table.c.kek_version == bindparam("old"))
                .values(
                    kek_version=bindparam("new"),
                    wrapped_key=bindparam("wrapped"),
                    rewrapped_at=bindparam("now"),
                )
            )
            session.connection().execute(statement, changes)
        session.expunge_all()
        return len(changes), (rows[-1].subject_id if rows else None)

    def rewrap_all(
        self, batch_size: int = 1000, progress: Callable[[int], None] | None = None
    ) -> int:
        """Re-wrap every data key under the active KEK, batch by batch.

        Each batch is its own short transaction, so the system keeps
        serving while a rotation runs.

        Returns:
            How many keys were re-wrapped.
        """
        done = 0
        after: uuid.UUID | None = None
        while True:
            with self.sessions.begin() as session:
                count, after = self.rewrap_batch(session, batch_size, after)
            done += count
            if progress is not None:
                progress(done)
            if after is None:
                return done

    # -- personal fields --------------------------------------------------

    def _seal_fields(
        self,
        data_key: bytes,
        key_version: int,
        lead_id: uuid.UUID,
        values: dict[str, str | None],
    ) -> dict[str, bytes | None]:
        sealed: dict[str, bytes | None] = {}
        for column, value in values.items():
            if value is None:
                sealed[column] = None
                continue
            aad = field_aad(PERSONAL_TABLE, column, lead_id, key_version)
            sealed[column] = seal(data_key, value.encode("utf-8"), aad)
        return sealed

    def read_personal(
        self, session: Session, lead_id: uuid.UUID
    ) -> dict[str, Personal[str] | None]:
        """Decrypt a lead's personal fields, each wrapped in :class:`Personal`.

        Raises:
            NotFoundError: the lead does not exist or was erased.
            DecryptionError: a value was tampered with or moved.
        """
        row = session.get(LeadPersonal, lead_id)
        if row is None:
            raise NotFoundError("no such lead")
        data_key, key_version = self._data_key(session, lead_id)
        fields: dict[str, Personal[str] | None] = {}
        for column in PERSONAL_FIELDS:
            sealed = getattr(row, column)
            if sealed is None:
                fields[column] = None
                continue
            aad = field_aad(PERSONAL_TABLE, column, lead_id, key_version)
            fields[column] = Personal(
                open_sealed(data_key, sealed, aad).decode("utf-8")
            )
        return fields

    def update_personal(
        self, session: Session, lead_id: uuid.UUID, **values: str | None
    ) -> None:
        """Replace some personal fields of a lead (validated, re-sealed).

        Raises:
            InvalidInputError: a field is unknown or its value is invalid.
            NotFoundError: the lead does not exist.
        """
        lead = session.get(Lead, lead_id)
        row = session.get(LeadPersonal, lead_id)
        if lead is None or row is None:
            raise NotFoundError("no such lead")
        current = {
            k: (v.reveal() if v else None)
            for k, v in self.read_personal(session, lead_id).items()
        }
        merged = {**current, **values}
        checked = LeadInput(
            name=merged["name"] or "",
            email=merged["email"] or "",
            company=merged["company"] or "",
            job_title=merged["job_title"] or "",
            need=merged["need"],
            phone=merged["phone"],
        ).validated()
        new_index = blind_index_for_email(self.keyring, checked.email)
        data_key, key_version = self._data_key(session, lead_id)
        sealed = self._seal_fields(
            data_key, key_version, lead_id, {c: getattr(checked, c) for c in values}
        )
        for column, value in sealed.items():
            setattr(row, column, value)
        lead.email_index = new_index
        session.flush()

    def seal_for_subject(
        self,
        session: Session,
        subject_id: uuid.UUID,
        place: tuple[str, str, uuid.UUID | str],
        plaintext: str,
    ) -> bytes:
        """Seal a value of another table under a subject's data key.

        ``place`` is ``(table, column, row id)``; the associated data binds
        the value to it and to the data-key version, so erasing the subject
        (destroying the key) makes the value unreadable too.

        Raises:
            NotFoundError: the subject has no data key (unknown or erased).
        """
        data_key, key_version = self._data_key(session, subject_id)
        table, column, row_id = place
        aad = field_aad(table, column, row_id, key_version)
        return seal(data_key, plaintext.encode("utf-8"), aad)

    def open_for_subject(
        self,
        session: Session,
        subject_id: uuid.UUID,
        place: tuple[str, str, uuid.UUID | str],
        sealed: bytes,
    ) -> Personal[str]:
        """Open a value sealed by :meth:`seal_for_subject` at the same place.

        Raises:
            NotFoundError: the subject has no data key (unknown or erased).
            DecryptionError: the value was tampered with or moved.
        """
        data_key, key_version = self._data_key(session, subject_id)
        table, column, row_id = place
        aad = field_aad(table, column, row_id, key_version)
        return Personal(open_sealed(data_key, sealed, aad).decode("utf-8"))

    # -- capture ----------------------------------------------------------

    def find_lead_id(self, session: Session, email: str) -> uuid.UUID | None:
        """Find a lead by email through the blind index (no decryption)."""
        index = blind_index_for_email(self.keyring, email)
        return session.scalar(select(Lead.id).where(Lead.email_index == index))

    def is_suppressed(self, session: Session, email: str) -> bool:
        """Whether an address must never be emailed (erased, unsubscribed...)."""
        index = blind_index_for_email(self.keyring, email)
        return (
            session.scalar(
                select(Suppression.id).where(Suppression.email_index == index)
            )
            is not None
        )

    def capture_lead(
        self,
        session: Session,
        lead: LeadInput,
        *,
        score: int,
        tier: str,
        source: str,
        consents: Sequence[ledger.ConsentAnswer] = (),
        chat_session_id: str | None = None,
        qualified: bool = True,
        actor: str = "system",
    ) -> CaptureResult:
        """Store a lead, its consents and a ``lead.qualified`` outbox event.

        Everything happens in the caller's transaction. An address already
        known (by blind index) updates that lead instead of creating a
        second one.

        Raises:
            InvalidInputError: a field is invalid; nothing was written.
        """
        checked = lead.validated()
        index = blind_index_for_email(self.keyring, checked.email)
        existing = session.scalar(select(Lead).where(Lead.email_index == index))
        created = existing is None
        if existing is None:
            record = Lead(
                id=uuid.uuid4(),
                email_index=index,
                score=score,
                tier=tier,
                source=source,
            )
            session.add(record)
            session.flush()
            data_key = secrets.token_bytes(KEY_BYTES)
            active = self.keyring.active_version
            session.add(
                SubjectKey(
                    subject_id=record.id,
                    kek_version=active,
                    key_version=1,
                    wrapped_key=self._wrap(record.id, data_key, active),
                )
            )
            personal = LeadPersonal(lead_id=record.id)
            session.add(personal)
            key_version = 1
        else:
            record = existing
            record.score, record.tier = score, tier
            data_key, key_version = self._data_key(session, record.id)
            personal = session.get(LeadPersonal, record.id) or LeadPersonal(
                lead_id=record.id
            )
            session.add(personal)
        record.company_size = lead.company_size
        record.timeline = lead.timeline
        record.budget = lead.budget
        record.time_zone = lead.time_zone
        if qualified:
            record.qualified_at = record.qualified_at or utcnow()
        values = {c: getattr(checked, c) for c in PERSONAL_FIELDS}
        for column, sealed in self._seal_fields(
            data_key, key_version, record.id, values
        ).items():
            setattr(personal, column, sealed)
        if chat_session_id is not None:
            self.link_chat_session(session, record.id, chat_session_id)
        for answer in consents:
            ledger.record_consent(session, answer, subject_id=record.id)
        if qualified:
            session.add(
                OutboxEvent(
                    topic="lead.qualified",
                    aggregate_id=record.id,
                    payload={
                        "lead_id": str(record.id),
                        "tier": tier,
                        "created": created,
                    },
                )
            )
        record_audit(
            session,
            actor=actor,
            action="lead.captured" if created else "lead.updated",
            target_id=str(record.id),
        )
        session.flush()
        log.info("lead.captured created=%s tier=%s source=%s", created, tier, source)
        return CaptureResult(record.id, created)

    def link_chat_session(
        self, session: Session, lead_id: uuid.UUID, chat_session_id: str
    ) -> None:
        """Record that a chat session belongs to a lead (for erasure)."""
        known = session.scalar(
            select(LeadChatSession.id)
            .where(LeadChatSession.lead_id == lead_id)
            .where(LeadChatSession.chat_session_id == chat_session_id)
        )
        if known is None:
            session.add(
                LeadChatSession(lead_id=lead_id, chat_session_id=chat_session_id)
            )

    def chat_sessions_of(self, session: Session, lead_id: uuid.UUID) -> list[str]:
        """Return the chat session ids linked to a lead."""
        return list(
            session.scalars(
                select(LeadChatSession.chat_session_id).where(
                    LeadChatSession.lead_id == lead_id
                )
            )
        )

    # -- export and erasure ----------------------------------------------

    def export_subject(
        self, session: Session, lead_id: uuid.UUID, *, actor: str = "system"
    ) -> dict[str, Any]:
        """Return everything the vault holds about a subject, JSON-ready.

        The export is an audit event (``subject.exported``) in the caller's
        transaction.

        Raises:
            NotFoundError: the lead does not exist or was erased.
        """
        lead = session.get(Lead, lead_id)
        if lead is None:
            raise NotFoundError("no such lead")
        fields = self.read_personal(session, lead_id)
        record_audit(
            session, actor=actor, action="subject.exported", target_id=str(lead_id)
        )
        return {
            "lead_id": str(lead.id),
            "fields": {k: (v.reveal() if v else None) for k, v in fields.items()},
            "qualification": {
                "status": lead.status,
                "tier": lead.tier,
                "score": lead.score,
                "source": lead.source,
                "company_size": lead.company_size,
                "timeline": lead.timeline,
                "budget": lead.budget,
                "time_zone": lead.time_zone,
                "created_at": lead.created_at.isoformat(),
                "qualified_at": lead.qualified_at.isoformat()
                if lead.qualified_at
                else None,
            },
            "consents": [
                {
                    "purpose": r.purpose,
                    "granted": r.granted,
                    "notice_version": r.notice_version,
                    "notice_sha256": r.notice_sha256,
                    "channel": r.channel,
                    "recorded_at": r.recorded_at.isoformat(),
                }
                for r in ledger.consent_history(session, lead_id)
            ],
            "chat_sessions": self.chat_sessions_of(session, lead_id),
        }

    def suppress(self, session: Session, email_index: bytes, reason: str) -> None:
        """Add an address (by blind index) to the suppression list, once."""
        known = session.scalar(
            select(Suppression.id).where(Suppression.email_index == email_index)
        )
        if known is None:
            session.add(Suppression(email_index=email_index, reason=reason))
            session.flush()

    def erase_subject(
        self, session: Session, lead_id: uuid.UUID, *, actor: str
    ) -> ErasureReport:
        """Erase a subject: destroy the data key and delete every row.

        What remains is a suppression entry (the blind index, so the address
        is never emailed again) and an audit event naming only the lead id.
        Registered steps of other stores run first. Running it again for an
        erased subject removes nothing and succeeds.
        """
        removed: dict[str, int] = {}
        lead = session.get(Lead, lead_id)
        chat_ids = self.chat_sessions_of(session, lead_id)
        for store, step in _erasure_steps.items():
            removed[store] = step(session, lead_id)
        if lead is not None:
            self.suppress(session, lead.email_index, "erased")
        # Two statements, not one OR: each uses its own index.
        removed["consent_records"] = _count(
            session, delete(ConsentRecord).where(ConsentRecord.subject_id == lead_id)
        )
        if chat_ids:
            removed["consent_records"] += _count(
                session,
                delete(ConsentRecord).where(
                    ConsentRecord.chat_session_id.in_(chat_ids)
                ),
            )
        removed["privacy_requests_unlinked"] = _count(
            session,
            update(PrivacyRequest)
            .where(PrivacyRequest.lead_id == lead_id)
            .values(chat_session_id=None),
        )
        removed["callback_requests"] = _count(
            session, delete(CallbackRequest).where(CallbackRequest.lead_id == lead_id)
        )
        removed["outbox_events"] = _count(
            session, delete(OutboxEvent).where(OutboxEvent.aggregate_id == lead_id)
        )
        removed["data_keys"] = _count(
            session, delete(SubjectKey).where(SubjectKey.subject_id == lead_id)
        )
        removed["personal_rows"] = _count(
            session, delete(LeadPersonal).where(LeadPersonal.lead_id == lead_id)
        )
        removed["chat_session_links"] = _count(
            session, delete(LeadChatSession).where(LeadChatSession.lead_id == lead_id)
        )
        removed["leads"] = _count(session, delete(Lead).where(Lead.id == lead_id))
        record_audit(
            session, actor=actor, action="subject.erased", target_id=str(lead_id)
        )
        log.info("subject.erased removed=%s", sum(removed.values()))
        return ErasureReport(lead_id, removed)


def _count(session: Session, statement: Any) -> int:
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def iter_lead_ids(session: Session, batch: int = 1000) -> Iterable[uuid.UUID]:
    """Yield every lead id in batches (for maintenance commands)."""
    last: uuid.UUID | None = None
    while True:
        query = select(Lead.id).order_by(Lead.id).limit(batch)
        if last is not None:
            query = query.where(Lead.id > last)
        ids = list(session.scalars(query))
        if not ids:
            return
        yield from ids
        last = ids[-1]
