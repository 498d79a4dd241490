"""Scopes (api.md §3.1). Independent of each other; only workspace:admin implies the rest."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import Forbidden
from .models import Principal

ADMIN = "workspace:admin"
ENGAGEMENTS_READ = "engagements:read"
ENGAGEMENTS_PRIVATE_READ = "engagements:private:read"
ENGAGEMENTS_WRITE = "engagements:write"
ENGAGEMENTS_PRIVATE_WRITE = "engagements:private:write"
TRANSCRIPT_TIMELINES_READ = "transcript_timelines:read"
TRANSCRIPT_COMMENTS_WRITE = "transcript_comments:write"
USERS_READ = "users:read"

ALL = (
    ADMIN,
    ENGAGEMENTS_READ,
    ENGAGEMENTS_PRIVATE_READ,
    ENGAGEMENTS_WRITE,
    ENGAGEMENTS_PRIVATE_WRITE,
    TRANSCRIPT_TIMELINES_READ,
    TRANSCRIPT_COMMENTS_WRITE,
    "contacts:read",
    "contacts:write",
    "companies:read",
    "companies:write",
    "tags:read",
    "tags:write",
    USERS_READ,
)

# expand → extra scope it needs (api.md §3.1); the others need none.
EXPAND_SCOPES = {"companies": "companies:read", "contacts": "contacts:read", "owner": USERS_READ}


def has(principal: Principal, scope: str) -> bool:
    return scope in principal.scopes or ADMIN in principal.scopes


def require(principal: Principal, scopes: Iterable[str]) -> None:
    missing = [s for s in scopes if not has(principal, s)]
    if missing:
        raise Forbidden(missing)


def can_read_private(principal: Principal) -> bool:
    return has(principal, ENGAGEMENTS_PRIVATE_READ)
