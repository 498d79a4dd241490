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
TRANSCRIPT_COMMENTS_READ = "transcript_comments:read"
TRANSCRIPT_COMMENTS_WRITE = "transcript_comments:write"
USERS_READ = "users:read"
CONTACTS_READ = "contacts:read"
CONTACTS_WRITE = "contacts:write"
COMPANIES_READ = "companies:read"
COMPANIES_WRITE = "companies:write"
TAGS_READ = "tags:read"
TAGS_WRITE = "tags:write"

ALL = (
    ADMIN,
    ENGAGEMENTS_READ,
    ENGAGEMENTS_PRIVATE_READ,
    ENGAGEMENTS_WRITE,
    ENGAGEMENTS_PRIVATE_WRITE,
    TRANSCRIPT_TIMELINES_READ,
    TRANSCRIPT_COMMENTS_READ,
    TRANSCRIPT_COMMENTS_WRITE,
    CONTACTS_READ,
    CONTACTS_WRITE,
    COMPANIES_READ,
    COMPANIES_WRITE,
    TAGS_READ,
    TAGS_WRITE,
    USERS_READ,
)

# expand → extra scope it needs (api.md §3.1); the others need none.
EXPAND_SCOPES = {"companies": COMPANIES_READ, "contacts": CONTACTS_READ, "owner": USERS_READ}


def has(principal: Principal, scope: str) -> bool:
    return scope in principal.scopes or ADMIN in principal.scopes


def require(principal: Principal, scopes: Iterable[str]) -> None:
    missing = [s for s in scopes if not has(principal, s)]
    if missing:
        raise Forbidden(missing)


def can_read_private(principal: Principal) -> bool:
    return has(principal, ENGAGEMENTS_PRIVATE_READ)
