"""In-memory state: workspaces with their users, keys, engagements and directory, and the external_id index."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterator
from dataclasses import field, fields

from . import write_set as tables
from .directory import Directory
from .engagement_order import EngagementOrder
from .errors import NotFound
from .models import ApiKey, Company, Contact, Engagement, OAuthClient, OAuthToken, Principal, User
from .records import dataclass
from .releaser import Dropped
from .write_set import WriteSet, scoped

DEFAULT_WORKSPACE = "wrks_local"
DEFAULT_USER = "usr_local"
DEFAULT_EMAIL = "owner@example.com"
DEFAULT_API_KEY = "sk-apik_local.fakeaskelephant"
WORKSPACE_ID = re.compile(r"^wrks_[A-Za-z0-9]+$")
_KEY = re.compile(r"^sk-apik_([A-Za-z0-9]{1,64})\.([A-Za-z0-9_-]{1,128})$")


def parse_api_key(token: str) -> tuple[str, str] | None:
    """Split `sk-apik_<id>.<secret>` at the first dot; None when malformed (api.md §3)."""
    m = _KEY.match(token)
    return (m.group(1), m.group(2)) if m else None


@dataclass
class Workspace:
    id: str
    users: dict[str, User] = field(default_factory=dict)
    engagements: dict[str, Engagement] = field(default_factory=dict)
    by_external_id: dict[str, str] = field(default_factory=dict)
    # Contacts, companies, tags, transcript comments (api.md §10).
    directory: Directory = field(default_factory=Directory)
    # Configuration, kept by a plain reset like users: `is_private` omitted → this (api.md §5; seed data / admin).
    private_by_default: bool = False

    def __post_init__(self) -> None:
        # Derived, so not a field: persistence neither saves it nor loads it (EngagementOrder.sync).
        self.engagement_order = EngagementOrder()

    def clear_resources(self) -> list[Dropped]:
        """Swap in empty containers; the old ones are returned for a Releaser to free."""
        old, self.directory = self.directory, Directory()
        dropped = [Dropped(self.engagements), Dropped(self.by_external_id), *self.engagement_order.drop()]
        self.engagements, self.by_external_id = {}, {}
        return dropped + [Dropped(getattr(old, f.name)) for f in fields(old)]


class Store:
    """All workspaces. Every lookup is workspace-scoped: a foreign id is simply not found."""

    def __init__(self, write_set: WriteSet | None = None) -> None:
        # The write set (core/write_set.py): every service that stores through the store tells it what changed.
        self.write_set = write_set if write_set is not None else WriteSet()
        self.workspaces: dict[str, Workspace] = {}
        self.keys: dict[str, ApiKey] = {}
        # OAuth credentials survive a reset like API keys do (pipeline.md §7).
        self.oauth_clients: dict[str, OAuthClient] = {}
        self.oauth_tokens: dict[str, OAuthToken] = {}

    # Workspaces and users -------------------------------------------------------------------

    def workspace(self, workspace_id: str) -> Workspace:
        ws = self.workspaces.get(workspace_id)
        if ws is None:
            ws = self.workspaces[workspace_id] = Workspace(workspace_id)
            self.write_set.put(tables.WORKSPACES, workspace_id, ws)
        return ws

    def add_user(self, user: User) -> User:
        self.workspace(user.workspace_id).users[user.id] = user
        self.user_changed(user)
        return user

    def user_changed(self, user: User) -> None:
        self.write_set.put(tables.USERS, scoped(user.workspace_id, user.id), user)

    def get_user(self, workspace_id: str, user_id: str) -> User:
        ws = self.workspaces.get(workspace_id)
        if ws is None or user_id not in ws.users:
            raise NotFound("user", user_id)
        return ws.users[user_id]

    def find_user_by_email(self, workspace_id: str, email: str) -> User | None:
        wanted = email.casefold()
        return next((u for u in self.workspace(workspace_id).users.values() if u.email.casefold() == wanted), None)

    def find_user_by_phone(self, workspace_id: str, phone: str) -> User | None:
        return next((u for u in self.workspace(workspace_id).users.values() if u.phone and u.phone == phone), None)

    def find_user(self, workspace_id: str, email: str | None, phone: str | None) -> User | None:
        """By email (case-insensitive), then by phone: how participants and speakers map to users."""
        return (self.find_user_by_email(workspace_id, email) if email else None) or (
            self.find_user_by_phone(workspace_id, phone) if phone else None
        )

    # Credentials ------------------------------------------------------------------------------

    def add_api_key(self, key: ApiKey) -> ApiKey:
        self.keys[key.key_id] = key
        self.write_set.put(tables.API_KEYS, key.key_id, key)
        return key

    def authenticate_key(self, token: str) -> Principal | None:
        parsed = parse_api_key(token)
        if parsed is None:
            return None
        key = self.keys.get(parsed[0])
        # Compare even when the id is unknown so timing does not reveal which ids exist.
        expected = key.secret if key else "\0" * len(parsed[1])
        if not hmac.compare_digest(expected.encode(), parsed[1].encode()) or key is None:
            return None
        return Principal(key.workspace_id, key.user_id, key.scopes, f"apik_{key.key_id}")

    # Engagements ------------------------------------------------------------------------------

    def insert_engagement(self, engagement: Engagement) -> None:
        ws = self.workspace(engagement.workspace_id)
        ws.engagements[engagement.id] = engagement
        ws.by_external_id[engagement.external_id] = engagement.id
        ws.engagement_order.put(engagement)
        self.engagement_changed(engagement)

    def engagement_changed(self, engagement: Engagement) -> None:
        self.write_set.put(tables.ENGAGEMENTS, scoped(engagement.workspace_id, engagement.id), engagement)

    def reorder_engagement(self, engagement: Engagement, retitled: bool = False) -> None:
        """It changed: its updated_at, status or links may have moved, its title when `retitled` (ChangeRecorder)."""
        ws = self.workspaces.get(engagement.workspace_id)
        if ws is not None and ws.engagements.get(engagement.id) is engagement:
            ws.engagement_order.put(engagement, retitled=retitled)

    def find_engagement(self, workspace_id: str, engagement_id: str) -> Engagement | None:
        ws = self.workspaces.get(workspace_id)
        return ws.engagements.get(engagement_id) if ws else None

    def get_engagement(self, workspace_id: str, engagement_id: str) -> Engagement:
        engagement = self.find_engagement(workspace_id, engagement_id)
        if engagement is None:
            raise NotFound("engagement", engagement_id)
        return engagement

    def find_engagement_by_id(self, engagement_id: str) -> Engagement | None:
        """Admin lookups, which are not workspace-scoped."""
        for ws in self.workspaces.values():
            if engagement_id in ws.engagements:
                return ws.engagements[engagement_id]
        return None

    def find_contact_by_id(self, contact_id: str) -> Contact | None:
        """Admin lookups, which are not workspace-scoped."""
        return next((ws.directory.contacts[contact_id] for ws in self._holding(contact_id, "contacts")), None)

    def find_company_by_id(self, company_id: str) -> Company | None:
        """Admin lookups, which are not workspace-scoped."""
        return next((ws.directory.companies[company_id] for ws in self._holding(company_id, "companies")), None)

    def _holding(self, record_id: str, table: str) -> Iterator[Workspace]:
        return (ws for ws in self.workspaces.values() if record_id in getattr(ws.directory, table))

    def find_by_external_id(self, workspace_id: str, external_id: str) -> Engagement | None:
        ws = self.workspaces.get(workspace_id)
        if ws is None:
            return None
        engagement_id = ws.by_external_id.get(external_id)
        return ws.engagements.get(engagement_id) if engagement_id else None

    def delete_engagement(self, engagement: Engagement) -> None:
        ws = self.workspace(engagement.workspace_id)
        ws.engagements.pop(engagement.id, None)
        ws.by_external_id.pop(engagement.external_id, None)
        ws.engagement_order.discard(engagement.id)
        self.write_set.gone(tables.ENGAGEMENTS, scoped(engagement.workspace_id, engagement.id))

    def reset(self, workspace_id: str | None = None, *, everything: bool = False) -> list[Dropped]:
        """Clear resources; keys, users and workspaces survive unless `everything` (pipeline.md §7).

        O(workspaces): what is dropped is returned, for a Releaser to free.
        """
        self.write_set.everything()
        targets = [self.workspaces[workspace_id]] if workspace_id in self.workspaces else []
        if workspace_id is None:
            targets = list(self.workspaces.values())
        dropped = [d for ws in targets for d in ws.clear_resources()]
        if everything:
            if workspace_id is None:
                dropped += [Dropped(self.workspaces), Dropped(self.keys)]
                self.workspaces, self.keys = {}, {}
                self.oauth_clients.clear()
                self.oauth_tokens.clear()
            else:
                self.workspaces.pop(workspace_id, None)
                for key_id in [k for k, v in self.keys.items() if v.workspace_id == workspace_id]:
                    del self.keys[key_id]
                for client_id in [k for k, v in self.oauth_clients.items() if v.workspace_id == workspace_id]:
                    del self.oauth_clients[client_id]
                for token in [k for k, v in self.oauth_tokens.items() if v.workspace_id == workspace_id]:
                    del self.oauth_tokens[token]
        return dropped
