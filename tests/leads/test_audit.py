import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import ProgrammingError

from leads.audit import record_audit, verify_chain
from leads.database import make_engine
from leads.models import AuditEvent
from leads.vault import Vault


def _chain(vault: Vault, count: int = 5) -> None:
    with vault.sessions.begin() as session:
        for number in range(count):
            record_audit(
                session, actor="user:1", action="lead.revealed", target_id=str(number)
            )


def test_intact_chain_verifies(vault: Vault) -> None:
    _chain(vault)
    with vault.sessions() as session:
        report = verify_chain(session)
    assert report.ok and report.checked == 5


def test_altered_row_is_named(vault: Vault) -> None:
    _chain(vault)
    with vault.sessions.begin() as session:
        session.execute(
            update(AuditEvent).where(AuditEvent.id == 3).values(actor="user:2")
        )
    with vault.sessions() as session:
        report = verify_chain(session)
    assert (report.first_bad_id, report.reason) == (3, "its content was altered")


def test_deleted_row_is_detected(vault: Vault) -> None:
    _chain(vault)
    with vault.sessions.begin() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.id == 2))
    with vault.sessions() as session:
        assert verify_chain(session).first_bad_id == 3


def test_inserted_row_is_detected(vault: Vault) -> None:
    _chain(vault)
    with vault.sessions.begin() as session:
        for event_id in range(5, 2, -1):
            session.execute(
                update(AuditEvent)
                .where(AuditEvent.id == event_id)
                .values(id=event_id + 1)
            )
        forged = AuditEvent(
            id=3,
            occurred_at=session.get(AuditEvent, 2).occurred_at,  # type: ignore[union-attr]
            actor="user:9",
            action="lead.revealed",
            target_id="x",
            prev_hash=session.get(AuditEvent, 2).hash,  # type: ignore[union-attr]
            hash="0" * 64,
        )
        session.add(forged)
    with vault.sessions() as session:
        assert verify_chain(session).first_bad_id == 3


def test_reordered_rows_are_detected(vault: Vault) -> None:
    _chain(vault)
    with vault.sessions.begin() as session:
        session.execute(update(AuditEvent).where(AuditEvent.id == 2).values(id=100))
        session.execute(update(AuditEvent).where(AuditEvent.id == 3).values(id=2))
        session.execute(update(AuditEvent).where(AuditEvent.id == 100).values(id=3))
    with vault.sessions() as session:
        report = verify_chain(session)
    assert report.first_bad_id == 2
    assert report.reason == "it does not follow its predecessor"


def test_label_limits() -> None:
    from leads.errors import InvalidInputError

    with pytest.raises(InvalidInputError):
        record_audit(None, actor="", action="x")  # type: ignore[arg-type]


@pytest.mark.postgres
def test_application_role_cannot_change_audit_rows(pg_url: str) -> None:
    """The grant documented in the README, applied and checked for real."""
    admin = make_engine(pg_url)
    with admin.begin() as connection:
        connection.execute(text("DROP ROLE IF EXISTS leadguard_app_test"))
        connection.execute(text("CREATE ROLE leadguard_app_test LOGIN"))
        connection.execute(
            text(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
                "TO leadguard_app_test"
            )
        )
        connection.execute(
            text(
                "REVOKE UPDATE, DELETE, TRUNCATE ON audit_events "
                "FROM leadguard_app_test"
            )
        )
    app = make_engine(pg_url.replace("postgres@", "leadguard_app_test@"))
    try:
        with app.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO audit_events (id, occurred_at, actor, action, "
                    "prev_hash, hash) VALUES (1, now(), 'a', 'b', 'c', 'd')"
                )
            )
        for statement in (
            "UPDATE audit_events SET actor = 'x'",
            "DELETE FROM audit_events",
        ):
            with (
                pytest.raises(ProgrammingError, match="permission denied"),
                app.begin() as connection,
            ):
                connection.execute(text(statement))
    finally:
        app.dispose()
        with admin.begin() as connection:
            connection.execute(text("DROP OWNED BY leadguard_app_test"))
            connection.execute(text("DROP ROLE leadguard_app_test"))
        admin.dispose()
