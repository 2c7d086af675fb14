"""What the console's request handlers share, kept on ``app.state``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection
from starlette.templating import Jinja2Templates

from console.signin import SignInChecker
from leads.keyring import KeyRing
from leads.settings import Settings
from leads.vault import Vault

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass
class ConsoleContext:
    """Settings, vault, sign-in checker and templates of one application."""

    settings: Settings
    vault: Vault
    checker: SignInChecker
    templates: Jinja2Templates

    @classmethod
    def build(cls, settings: Settings) -> ConsoleContext:
        """Open the vault (refusing a wrong key ring) and load templates."""
        vault = Vault.from_settings(settings)
        environment = Environment(
            loader=FileSystemLoader(TEMPLATE_DIR),
            autoescape=select_autoescape(default=True),
            auto_reload=False,
        )
        return cls(
            settings=settings,
            vault=vault,
            checker=SignInChecker(settings, vault.keyring),
            templates=Jinja2Templates(env=environment),
        )

    @property
    def keyring(self) -> KeyRing:
        """The key ring the vault was opened with."""
        return self.vault.keyring

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """Open a session; commit when the block succeeds, roll back otherwise."""
        with self.vault.sessions.begin() as session:
            yield session


def console_context(connection: HTTPConnection) -> ConsoleContext:
    """Return the console context of the application serving a request."""
    context: ConsoleContext = connection.app.state.console
    return context
