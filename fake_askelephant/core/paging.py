"""Lists (api.md §8): keyset pagination on (updated_at, id), and the query every list takes (order, limit, the
position to start after, search, an updated_at window, CRM entries). Positions only: the opaque cursor that carries
a position and its query is the HTTP edge's (api/cursors.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import field
from itertools import islice
from typing import Generic, Protocol, TypeVar

from .crm import CrmRef
from .records import dataclass

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


# The query of the directory lists and users ----------------------------------------------------------


@dataclass(frozen=True)
class TimeRange:
    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None

    def bounds(self) -> tuple[int | None, int | None]:
        """The first and last whole millisecond in the range (None: unbounded on that side)."""
        lows = [ms for ms in (self.gte, None if self.gt is None else self.gt + 1) if ms is not None]
        highs = [ms for ms in (self.lte, None if self.lt is None else self.lt - 1) if ms is not None]
        return (max(lows) if lows else None), (min(highs) if highs else None)

    def __contains__(self, ms: int) -> bool:
        return (
            (self.gt is None or ms > self.gt)
            and (self.gte is None or ms >= self.gte)
            and (self.lt is None or ms < self.lt)
            and (self.lte is None or ms <= self.lte)
        )


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
