"""Access rules attached to every route: deny by default.

Each endpoint declares who may call it with :func:`requires` or
:func:`public`. The application refuses to start when a route has no rule,
and the role-by-route test matrix is built from these declarations.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

RULE_ATTRIBUTE = "__leadguard_access__"


class Role(enum.StrEnum):
    """Console roles (see ARCHITECTURE.md, "Who may see what")."""

    SALES = "sales"
    MANAGER = "manager"
    PRIVACY_OFFICER = "privacy_officer"
    ADMIN = "admin"


@dataclass(frozen=True)
class AccessRule:
    """Who may call an endpoint.

    ``public`` endpoints need no sign-in (the chat gateway, the visitor's
    self-service pages, unsubscribe); ``reason`` says why. Otherwise a signed-in
    user with MFA completed and one of ``roles`` is required.

    ``sign_in`` marks the steps of the sign-in flow (password, MFA, setup
    link): they need no completed sign-in, but they read the visitor's
    session and every state change is CSRF-checked. Plain ``public`` rules
    are cookieless by design: the application loads no session for them and
    does not CSRF-check them (the chat gateway, one-click unsubscribe).
    """

    public: bool
    roles: frozenset[Role]
    reason: str = ""
    sign_in: bool = False

    @property
    def uses_session(self) -> bool:
        """Whether the console session is loaded and CSRF is enforced."""
        return not self.public or self.sign_in


def requires(*roles: Role) -> Callable[[F], F]:
    """Allow an endpoint to signed-in users holding one of ``roles``."""
    if not roles:
        raise ValueError("requires() needs at least one role")

    def mark(endpoint: F) -> F:
        setattr(endpoint, RULE_ATTRIBUTE, AccessRule(False, frozenset(roles)))
        return endpoint

    return mark


def public(reason: str) -> Callable[[F], F]:
    """Allow an endpoint to anyone; ``reason`` documents why."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, RULE_ATTRIBUTE, AccessRule(True, frozenset(), reason))
        return endpoint

    return mark


def sign_in_step(reason: str) -> Callable[[F], F]:
    """Allow a step of the sign-in flow to visitors not yet signed in.

    The session, if any, is loaded and state changes are CSRF-checked.
    """

    def mark(endpoint: F) -> F:
        rule = AccessRule(True, frozenset(), reason, sign_in=True)
        setattr(endpoint, RULE_ATTRIBUTE, rule)
        return endpoint

    return mark


def rule_of(endpoint: object) -> AccessRule | None:
    """Return the rule declared on an endpoint, or None when it has none."""
    rule = getattr(endpoint, RULE_ATTRIBUTE, None)
    return rule if isinstance(rule, AccessRule) else None
