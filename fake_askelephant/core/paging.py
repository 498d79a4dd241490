"""Lists (api.md §8): keyset pagination on (updated_at, id) with opaque cursors, and the query every list takes
(order, limit, cursor, search, an updated_at window, CRM entries)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Generic, Protocol, TypeVar

from . import jsonutil
from .crm import CrmRef
from .errors import InvalidRequest

T = TypeVar("T")
ORDERS = ("updated_at:asc", "updated_at:desc")
DEFAULT_ORDER = "updated_at:desc"
DEFAULT_LIMIT = 25
MAX_LIMIT = 100


@dataclass(frozen=True)
class Cursor:
    order: str
    updated_at: int
    id: str

    def encode(self) -> str:
        raw = jsonutil.dumps({"o": self.order, "u": self.updated_at, "i": self.id})
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, order: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = jsonutil.loads(raw)
            cursor = cls(str(data["o"]), int(data["u"]), str(data["i"]))
        except (binascii.Error, ValueError, KeyError, TypeError, jsonutil.JSONDecodeError) as exc:
            raise InvalidRequest("cursor is not a valid next_cursor from this API.") from exc
        if cursor.order != order:
            raise InvalidRequest(f"cursor was issued for order_by={cursor.order}, not {order}.")
        return cursor


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def paginate(
    items: Iterable[T],
    key: Callable[[T], tuple[int, str]],
    *,
    order: str = DEFAULT_ORDER,
    limit: int = DEFAULT_LIMIT,
    cursor: Cursor | None = None,
) -> Page[T]:
    """One page after `cursor`; `next_cursor` is None exactly when nothing follows (no trailing empty page).

    Keyset paging means records created during a walk (newer updated_at) never shift older ones.
    """
    descending = order == "updated_at:desc"
    if cursor is not None:
        mark = (cursor.updated_at, cursor.id)
        items = (i for i in items if (key(i) < mark if descending else key(i) > mark))
    ordered = sorted(items, key=key, reverse=descending)
    page = ordered[:limit]
    if len(ordered) <= limit:
        return Page(page, None)
    last = key(page[-1])
    return Page(page, Cursor(order, last[0], last[1]).encode())


def paginate_ordered(
    items: Iterable[T], key: Callable[[T], tuple[int, str]], *, order: str = DEFAULT_ORDER, limit: int = DEFAULT_LIMIT
) -> Page[T]:
    """`paginate` for items already in page order and after the cursor: reads at most limit + 1 of them."""
    taken = list(islice(items, limit + 1))
    if len(taken) <= limit:
        return Page(taken, None)
    page = taken[:limit]
    last = key(page[-1])
    return Page(page, Cursor(order, last[0], last[1]).encode())


# The query of the directory lists and users ----------------------------------------------------------


@dataclass(frozen=True)
class TimeRange:
    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None

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
    cursor: str | None = None
    search: str | None = None
    updated_at: TimeRange = field(default_factory=TimeRange)
    crm_associations: tuple[CrmRef, ...] | None = None  # None: not filtered


def list_page(records: Iterable[R], query: ListQuery, matches: Callable[[R], bool] = lambda _: True) -> Page[R]:
    """Keyset page of the records inside the updated_at window that `matches` admits."""
    cursor = Cursor.decode(query.cursor, query.order) if query.cursor else None
    items = (r for r in records if r.updated_at in query.updated_at and matches(r))
    return paginate(items, lambda r: (r.updated_at, r.id), order=query.order, limit=query.limit, cursor=cursor)


def search_hit(needle: str | None, *haystacks: str | None) -> bool:
    """Case-insensitive substring over any of the fields; no needle admits everything."""
    if not needle:
        return True
    wanted = needle.casefold()
    return any(h is not None and wanted in h.casefold() for h in haystacks)
