"""List queries shared by the directory resources: paging, search, updated_at window, CRM entries (api.md §8)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from .crm import CrmRef
from .engagements import TimeRange
from .paging import DEFAULT_LIMIT, DEFAULT_ORDER, Page, Position, paginate


class Listable(Protocol):
    id: str
    updated_at: int


R = TypeVar("R", bound=Listable)


@dataclass(frozen=True)
class ListQuery:
    order: str = DEFAULT_ORDER
    limit: int = DEFAULT_LIMIT
    after: Position | None = None  # from the cursor (api/cursors.py)
    search: str | None = None
    updated_at: TimeRange = field(default_factory=TimeRange)
    crm_associations: tuple[CrmRef, ...] | None = None  # None: not filtered


def list_page(records: Iterable[R], query: ListQuery, matches: Callable[[R], bool] = lambda _: True) -> Page[R]:
    """Keyset page of the records inside the updated_at window that `matches` admits."""
    items = (r for r in records if r.updated_at in query.updated_at and matches(r))
    return paginate(items, lambda r: (r.updated_at, r.id), order=query.order, limit=query.limit, after=query.after)


def search_hit(needle: str | None, *haystacks: str | None) -> bool:
    """Case-insensitive substring over any of the fields; no needle admits everything."""
    if not needle:
        return True
    wanted = needle.casefold()
    return any(h is not None and wanted in h.casefold() for h in haystacks)
