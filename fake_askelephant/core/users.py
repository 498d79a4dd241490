"""User use cases (api.md §10): list and get, and the users credentials act as (made on first use)."""

from __future__ import annotations

from collections.abc import Callable

from .ids import IdFactory
from .models import Principal, User, UserRole
from .paging import ListQuery, Page, list_page, search_hit
from .records import dataclass
from .store import Store


@dataclass(frozen=True)
class NewUser:
    """The user a new API key acts as (`POST /__admin/api-keys` with `user`)."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    role: UserRole = "MEMBER"
    phone: str | None = None


class UserService:
    """Users come from keys, OAuth clients and seed data; the API only reads them."""

    def __init__(self, *, store: Store, ids: IdFactory, now_ms: Callable[[], int]) -> None:
        self._store = store
        self._ids = ids
        self._now_ms = now_ms

    def list_users(self, principal: Principal, query: ListQuery) -> Page[User]:
        """search = name + email (api.md §8); filter[updated_at]."""
        users = self._store.workspace(principal.workspace_id).users.values()
        return list_page(users, query, lambda u: search_hit(query.search, u.email, u.display_name))

    def get_user(self, principal: Principal, user_id: str) -> User:
        return self._store.get_user(principal.workspace_id, user_id)

    def ensure_user(self, workspace_id: str, new: NewUser) -> User:
        """The workspace's user with this email (case-insensitive), created when there is none."""
        existing = self._store.find_user_by_email(workspace_id, new.email)
        if existing is not None:
            return existing
        now = self._now_ms()
        return self._store.add_user(
            User(
                self._ids.new("usr"),
                workspace_id,
                new.email,
                new.role,
                now,
                now,
                new.first_name,
                new.last_name,
                new.phone,
            )
        )

    def default_user(self, workspace_id: str) -> User:
        """A workspace's first OWNER, created on first use so every key has a user to own engagements."""
        ws = self._store.workspace(workspace_id)
        owner = next((u for u in ws.users.values() if u.role == "OWNER"), None)
        if owner is not None:
            return owner
        suffix = workspace_id.removeprefix("wrks_").lower()
        return self.ensure_user(workspace_id, NewUser(f"owner+{suffix}@example.com", "Workspace", "Owner", "OWNER"))
