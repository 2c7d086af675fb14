"""Sign-in: setup link, enrollment, TOTP replay, fixation, lockout, sessions."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyotp
from argon2 import PasswordHasher
from sqlalchemy import select, update
from starlette.applications import Starlette

from console.access import Role
from console.app import create_app
from console.models import ConsoleSession, ConsoleUser
from console.users import create_user
from leads.models import AuditEvent
from leads.settings import Settings
from leads.vault import Vault
from tests.console.conftest import (
    PASSWORD,
    StaffMember,
    TestClient,
    csrf_from,
    make_staff,
    post_form,
    session_cookie,
    settings_with,
    sign_in,
)

LONG_PASSWORD = "a passphrase that is well over sixty-four characters long, " * 2


def _actions(vault: Vault) -> list[str]:
    with vault.sessions() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _login(client: TestClient, email: str, password: str) -> object:
    token = csrf_from(client.get("/console/login").text)
    return client.post(
        "/console/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def _mfa(client: TestClient, code: str) -> object:
    token = csrf_from(client.get("/console/mfa").text)
    return client.post(
        "/console/mfa",
        data={"code": code, "csrf_token": token},
        follow_redirects=False,
    )


def test_setup_link_enrollment_and_recovery_code(
    client: TestClient, console_vault: Vault, settings: Settings
) -> None:
    with console_vault.sessions.begin() as session:
        _, link = create_user(
            session,
            console_vault.keyring,
            settings,
            email="new.hire@team.example",
            role=Role.SALES,
            actor="test",
        )
    path = link.removeprefix(settings.public_base_url)
    page = client.get(path)
    assert page.status_code == 200 and "new.hire@team.example" in page.text
    response = client.post(
        path,
        data={
            "password": LONG_PASSWORD,
            "confirm": LONG_PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/console/enroll"
    assert client.get(path).status_code == 404  # the link worked once

    enroll = client.get("/console/enroll")
    assert 'src="data:image/svg+xml' in enroll.text
    secret = re.search(r'class="secret">([A-Z2-7 ]+)<', enroll.text)
    assert secret is not None
    totp = pyotp.TOTP(secret.group(1).replace(" ", ""))
    done = client.post(
        "/console/enroll",
        data={"code": totp.now(), "csrf_token": csrf_from(enroll.text)},
    )
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", done.text)
    assert len(codes) == 10
    assert client.get("/console/queue").status_code == 200

    fresh = TestClient(client.app)
    assert _login(fresh, "new.hire@team.example", LONG_PASSWORD).status_code == 303
    assert _mfa(fresh, codes[0].upper()).status_code == 303
    again = TestClient(client.app)
    _login(again, "new.hire@team.example", LONG_PASSWORD)
    assert _mfa(again, codes[0]).status_code == 400  # single use
    assert "user.recovery_code_used" in _actions(console_vault)


def test_a_used_totp_code_cannot_be_replayed(
    app: Starlette, console_vault: Vault, settings: Settings
) -> None:
    member = make_staff(console_vault, settings, Role.SALES, "replay@team.example")
    code = member.code()
    first = TestClient(app)
    sign_in(first, member, code)
    second = TestClient(app)
    assert _login(second, member.email, PASSWORD).status_code == 303
    refused = _mfa(second, code)
    assert refused.status_code == 400
    assert "already used" in refused.text
    assert _mfa(second, member.code(1)).status_code == 303


def test_session_fixation_is_defeated(
    app: Starlette, console_vault: Vault, settings: Settings
) -> None:
    member = make_staff(console_vault, settings, Role.SALES, "fix@team.example")
    client = TestClient(app)
    client.cookies.set(
        "lg_session", "planted-by-an-attacker", domain="testserver.local"
    )
    _login(client, member.email, PASSWORD)
    half_way = session_cookie(client)
    assert half_way and half_way != "planted-by-an-attacker"
    _mfa(client, member.code())
    signed_in = session_cookie(client)
    assert signed_in not in {half_way, "planted-by-an-attacker"}

    stale = TestClient(app)
    stale.cookies.set("lg_session", half_way, domain="testserver.local")
    assert stale.get("/console/queue", follow_redirects=False).status_code == 303
    assert client.get("/console/queue").status_code == 200


def test_session_cookie_attributes_over_http(client: TestClient, staff: dict) -> None:
    response = _login(client, staff[Role.SALES].email, PASSWORD)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("lg_session=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Max-Age" not in cookie and "expires" not in cookie.lower()


def test_secure_host_prefixed_cookie_over_tls(tmp_path: Path) -> None:
    tls = settings_with(tmp_path, public_base_url="https://console.acme.example")
    vault = Vault.from_settings(tls)
    member = make_staff(vault, tls, Role.SALES, "tls@team.example")
    client = TestClient(create_app(tls), base_url="https://console.acme.example")
    login = client.get("/console/login")
    assert login.headers["strict-transport-security"].startswith("max-age=")
    assert login.headers["set-cookie"].startswith("__Host-lg_csrf=")
    response = client.post(
        "/console/login",
        data={
            "email": member.email,
            "password": PASSWORD,
            "csrf_token": csrf_from(login.text),
        },
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-lg_session=")
    assert "Secure" in cookie and "Domain" not in cookie and "Path=/" in cookie


def test_idle_and_absolute_timeouts(
    app: Starlette, console_vault: Vault, settings: Settings
) -> None:
    member = make_staff(console_vault, settings, Role.SALES, "idle@team.example")
    for column, age in (
        ("last_seen_at", dt.timedelta(minutes=31)),
        ("created_at", dt.timedelta(hours=13)),
    ):
        client = TestClient(app)
        sign_in(client, member, member.code(0 if column == "last_seen_at" else 1))
        assert client.get("/console/queue").status_code == 200
        with console_vault.sessions.begin() as session:
            session.execute(
                update(ConsoleSession)
                .where(ConsoleSession.user_id == member.user_id)
                .values({column: dt.datetime.now(dt.UTC) - age})
            )
        response = client.get("/console/queue", follow_redirects=False)
        assert response.status_code == 303, column


def test_admin_ends_sessions_and_disabling_ends_them_too(
    app: Starlette, console_vault: Vault, settings: Settings, staff: dict
) -> None:
    admin = TestClient(app)
    sign_in(admin, staff[Role.ADMIN])
    target: StaffMember = staff[Role.SALES]
    for action, code_offset in (("end-sessions", 0), ("disable", 1)):
        sales = TestClient(app)
        sign_in(sales, target, target.code(code_offset))
        assert sales.get("/console/queue").status_code == 200
        response = post_form(
            admin, "/console/users", f"/console/users/{target.user_id}/{action}", {}
        )
        assert response.status_code == 303
        assert sales.get("/console/queue", follow_redirects=False).status_code == 303
    assert _login(TestClient(app), target.email, PASSWORD).status_code == 400


def test_sign_out_ends_the_session(client: TestClient, staff: dict) -> None:
    sign_in(client, staff[Role.MANAGER])
    old = session_cookie(client)
    response = post_form(client, "/console/queue", "/console/logout", {})
    assert response.status_code == 303
    replay = TestClient(client.app)
    replay.cookies.set("lg_session", old, domain="testserver.local")
    assert replay.get("/console/queue", follow_redirects=False).status_code == 303


def test_lockout_after_repeated_failures(tmp_path: Path) -> None:
    locked = settings_with(tmp_path, console_lockout_failures=3)
    vault = Vault.from_settings(locked)
    member = make_staff(vault, locked, Role.SALES, "lock@team.example")
    client = TestClient(create_app(locked))
    statuses = [
        _login(client, member.email, "wrong password!!").status_code for _ in range(3)
    ]
    assert statuses == [400, 400, 423]
    refused = _login(client, member.email, PASSWORD)
    assert refused.status_code == 423
    assert "locked" in refused.text
    assert "user.locked" in _actions(vault)


def test_back_off_per_account(client: TestClient, staff: dict) -> None:
    email = staff[Role.SALES].email
    statuses = [_login(client, email, "wrong password!!").status_code for _ in range(6)]
    assert statuses[:5] == [400] * 5
    assert statuses[5] == 429
    assert _login(client, email, PASSWORD).status_code == 429


def test_back_off_per_client_address(
    client: TestClient, console_vault: Vault, staff: dict
) -> None:
    statuses = [
        _login(client, f"nobody{n}@team.example", "wrong password!!").status_code
        for n in range(31)
    ]
    assert statuses[:30] == [400] * 30
    assert statuses[30] == 429
    assert _login(client, staff[Role.SALES].email, PASSWORD).status_code == 429
    assert "signin.address_blocked" in _actions(console_vault)


def test_outdated_password_hash_is_replaced(
    client: TestClient, console_vault: Vault, staff: dict
) -> None:
    member = staff[Role.SALES]
    weak = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD)
    with console_vault.sessions.begin() as session:
        session.execute(
            update(ConsoleUser)
            .where(ConsoleUser.id == member.user_id)
            .values(password_hash=weak)
        )
    sign_in(client, member)
    with console_vault.sessions() as session:
        stored = session.get(ConsoleUser, member.user_id)
        assert stored is not None and stored.password_hash != weak
        assert stored.password_hash is not None
        assert stored.password_hash.startswith("$argon2id$")


def test_sign_in_returns_to_the_page_asked_for_and_nowhere_else(
    app: Starlette, console_vault: Vault, staff: dict
) -> None:
    member = staff[Role.SALES]
    client = TestClient(app)
    first = client.get("/console/account", follow_redirects=False)
    assert first.headers["location"] == "/console/login?next=/console/account"
    page = client.get(first.headers["location"])
    assert 'name="next" value="/console/account"' in page.text
    response = client.post(
        "/console/login",
        data={
            "email": member.email,
            "password": PASSWORD,
            "next": "/console/account",
            "csrf_token": csrf_from(page.text),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/console/mfa?next=/console/account"
    mfa = client.get(response.headers["location"])
    done = client.post(
        "/console/mfa",
        data={
            "code": member.code(),
            "next": "/console/account",
            "csrf_token": csrf_from(mfa.text),
        },
        follow_redirects=False,
    )
    assert done.headers["location"] == "/console/account"

    other = TestClient(app)
    page = other.get("/console/login?next=//evil.example/console/")
    assert "evil.example" not in page.text
    _login(other, member.email, PASSWORD)
    token = csrf_from(other.get("/console/mfa").text)
    done = other.post(
        "/console/mfa",
        data={
            "code": member.code(1),
            "next": "https://evil.example/",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert done.headers["location"] == "/console/queue"
