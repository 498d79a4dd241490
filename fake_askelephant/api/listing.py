"""Query parsing shared by the directory resources' list routes (api.md §8)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from ..core.listing import ListQuery
from ..core.paging import Position
from .crm_filters import FIELD as CRM_FIELD
from .crm_filters import parse_crm_associations
from .queries import QueryErrors, filter_params, parse_page_params, time_range

T = TypeVar("T")
UPDATED_AT_OPS = ("gt", "gte", "lt", "lte")


def parse_list_query(
    query: Mapping[str, str],
    errors: QueryErrors,
    *,
    filters: Mapping[str, tuple[str, ...]] | None = None,
    crm_types: Sequence[str] | None = None,
    searchable: bool = True,
    after: Position | None = None,
) -> tuple[ListQuery, dict[str, dict[str, str]]]:
    """limit, order_by, search, filter[updated_at], the route's own `filters` and, when the route takes them, CRM
    entries of `crm_types`; `after` comes from the cursor (api/cursors.py ListWalk). Bad values land in `errors`;
    the caller raises after adding its own.
    """
    limit, order, _ = parse_page_params(query, errors)
    known = {"updated_at": UPDATED_AT_OPS, **(filters or {})}
    parsed = filter_params(query, known, nested=(CRM_FIELD,) if crm_types else ())
    crm = parse_crm_associations(query, crm_types, errors) if crm_types else None
    list_query = ListQuery(
        order=order,
        limit=limit,
        after=after,
        search=(query.get("search") or None) if searchable else None,
        updated_at=time_range("updated_at", parsed.get("updated_at", {}), errors),
        crm_associations=crm,
    )
    return list_query, parsed
