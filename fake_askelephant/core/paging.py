"""Keyset pagination on (updated_at, id) with opaque cursors (api.md §8)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Generic, TypeVar

from . import jsonutil
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
