"""Keyset pagination on (updated_at, id) (api.md §8). Positions only: the opaque cursor that carries a position
and its query is the HTTP edge's (api/cursors.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Generic, TypeVar

T = TypeVar("T")
ORDERS = ("updated_at:asc", "updated_at:desc")
DEFAULT_ORDER = "updated_at:desc"
DEFAULT_LIMIT = 25
MAX_LIMIT = 100

Position = tuple[int, str]
"""(updated_at, id) of the last record a page returned; the next page starts strictly after it."""


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_after: Position | None  # None exactly when nothing follows (no trailing empty page)

    @property
    def has_more(self) -> bool:
        return self.next_after is not None


def paginate(
    items: Iterable[T],
    key: Callable[[T], Position],
    *,
    order: str = DEFAULT_ORDER,
    limit: int = DEFAULT_LIMIT,
    after: Position | None = None,
) -> Page[T]:
    """One page after `after`. Keyset paging means records created during a walk (newer updated_at) never shift
    older ones."""
    descending = order == "updated_at:desc"
    if after is not None:
        items = (i for i in items if (key(i) < after if descending else key(i) > after))
    ordered = sorted(items, key=key, reverse=descending)
    page = ordered[:limit]
    return Page(page, key(page[-1]) if len(ordered) > limit else None)


def paginate_ordered(items: Iterable[T], key: Callable[[T], Position], *, limit: int = DEFAULT_LIMIT) -> Page[T]:
    """`paginate` for items already in page order and after the position: reads at most limit + 1 of them."""
    taken = list(islice(items, limit + 1))
    page = taken[:limit]
    return Page(page, key(page[-1]) if len(taken) > limit else None)
