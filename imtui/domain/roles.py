"""Who may do what (team mode): four roles, each allowing everything the one before it does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from imtui.domain.errors import InvalidInput, PermissionDenied

VIEWER, RESPONDER, OPERATOR, ADMIN = "viewer", "responder", "operator", "admin"
ROLES = (VIEWER, RESPONDER, OPERATOR, ADMIN)
"""In increasing order of power."""

#: The least role each action needs; anything not listed only reads (viewer).
NEEDS = {
    "halt": RESPONDER,
    "reactivate": RESPONDER,
    "create": OPERATOR,
    "upgrade": OPERATOR,
    "modify": OPERATOR,
    "demo": OPERATOR,
    "usage_import": OPERATOR,
    "reconcile": RESPONDER,
    "grant": ADMIN,
    "revoke": ADMIN,
    "bind": ADMIN,
    "budget": OPERATOR,
}

DEFAULT_ROLE = VIEWER
"""A user nobody granted anything reads only; the creator of a database is its admin."""


def allows(role: str, action: str) -> bool:
    return ROLES.index(role) >= ROLES.index(NEEDS.get(action, VIEWER))


def check_allowed(user: str, role: str, action: str) -> None:
    """Refuses (exit 3) an action the user's role does not allow, saying who can grant it."""
    if not allows(role, action):
        need = NEEDS[action]
        raise PermissionDenied(
            f"user {user} is a {role}; {action} needs the {need} role "
            f"(an admin can run: imtui users grant {user} {need})"
        )


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    return role


@dataclass(frozen=True, slots=True)
class Grant:
    """A user's role, who granted it and when (`granted_at` is None for the default role)."""

    name: str
    role: str
    granted_at: datetime | None = None
    granted_by: str | None = None
