"""Query-string parsing for list routes: limit, cursor, order_by, filter[…], expand (api.md §6.1, §6.3, §8)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.crm import CRM_OBJECT_TYPES
from ..core.engagements import EngagementQuery, TimeRange
from ..core.errors import FieldError
from ..core.models import ENGAGEMENT_TYPES, PROCESSING_STATUSES
from ..core.paging import DEFAULT_LIMIT, DEFAULT_ORDER, MAX_LIMIT, ORDERS, Position
from ..core.timefmt import TimestampOutOfRange, parse_iso
from .crm_filters import FIELD as CRM_FIELD
from .crm_filters import parse_crm_associations
from .problems import Problem, validation_failed

EXPANDS = ("companies", "contacts", "owner", "action_items", "signals", "transcript", "media_url", "tags")
MAX_IN = 25
_FILTER = re.compile(r"^filter\[([a-z_]+)\]\[([a-z_]+)\]$")
_RANGE_OPS = ("gt", "gte", "lt", "lte")


@dataclass
class QueryErrors:
    """Collects every bad query value so one 422 lists them all."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, name: str, code: str, message: str) -> None:
        self.errors.append(FieldError(name, code, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise validation_failed(self.errors)


def parse_expand(query: Mapping[str, str], errors: QueryErrors, allowed: Iterable[str] = EXPANDS) -> tuple[str, ...]:
    """Comma list, trimmed, duplicates and empties ignored, case-sensitive (api.md §6.1)."""
    raw = ",".join(query.getall("expand", [])) if hasattr(query, "getall") else query.get("expand", "")
    allowed = tuple(allowed)
    wanted: list[str] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part or part in wanted:
            continue
        if part not in allowed:
            errors.add("expand", "invalid_enum", f"expand value {part!r} is not one of: {', '.join(allowed)}.")
            continue
        wanted.append(part)
    return tuple(wanted)


def parse_page_params(query: Mapping[str, str], errors: QueryErrors) -> tuple[int, str, str | None]:
    limit = DEFAULT_LIMIT
    if "limit" in query:
        try:
            limit = int(query["limit"].strip())
        except ValueError:
            errors.add("limit", "invalid_type", "limit must be an integer.")
        else:
            if not 1 <= limit <= MAX_LIMIT:
                errors.add("limit", "invalid_range", f"limit must be between 1 and {MAX_LIMIT}.")
    order = query.get("order_by", DEFAULT_ORDER)
    if order not in ORDERS:
        errors.add("order_by", "invalid_enum", f"order_by must be one of {', '.join(ORDERS)}.")
        order = DEFAULT_ORDER
    cursor = query.get("cursor") or None
    return limit, order, cursor


def filter_params(
    query: Mapping[str, str], known: Mapping[str, tuple[str, ...]], nested: Iterable[str] = ()
) -> dict[str, dict[str, str]]:
    """`filter[field][op]` → {field: {op: value}}; 400 when unparseable, 422 for unknown fields or ops.

    `nested` names fields with deeper syntax that another parser reads (crm_filters.py).
    """
    out: dict[str, dict[str, str]] = {}
    unknown: list[FieldError] = []
    skipped = tuple(f"filter[{name}]" for name in nested)
    for name, value in query.items():
        if not name.startswith("filter") or (skipped and name.startswith(skipped)):
            continue
        m = _FILTER.match(name)
        if not m:
            raise Problem(400, f"Query parameter {name!r} is not of the form filter[field][operator].")
        fld, op = m.groups()
        if fld not in known:
            unknown.append(
                FieldError(name, "invalid_enum", f"Unknown filter field {fld!r}; known: {', '.join(known)}.")
            )
        elif op not in known[fld]:
            unknown.append(
                FieldError(name, "invalid_enum", f"filter[{fld}] supports {', '.join(known[fld])}, not {op!r}.")
            )
        else:
            out.setdefault(fld, {})[op] = value
    if unknown:
        raise validation_failed(unknown)
    return out


def time_range(fld: str, ops: Mapping[str, str], errors: QueryErrors) -> TimeRange:
    values: dict[str, Any] = {}
    for op, raw in ops.items():
        name = f"filter[{fld}][{op}]"
        try:
            values[op] = parse_iso(raw.strip())
        except TimestampOutOfRange as exc:
            errors.add(name, "invalid_range", f"{name} {exc}.")
        except ValueError:
            errors.add(name, "invalid_type", f"{name} must be an ISO-8601 UTC timestamp.")
    return TimeRange(**values)


def _enum_set(fld: str, ops: Mapping[str, str], allowed: tuple[str, ...], errors: QueryErrors) -> frozenset[str] | None:
    if not ops:
        return None
    chosen: set[str] = set()
    for op, raw in ops.items():
        parts = [p.strip() for p in raw.split(",")] if op == "in" else [raw.strip()]
        for part in parts:
            if part not in allowed:
                errors.add(
                    f"filter[{fld}][{op}]",
                    "invalid_enum",
                    f"filter[{fld}][{op}] values must be among {', '.join(allowed)}.",
                )
            else:
                chosen.add(part)
    return frozenset(chosen)


def _id_set(fld: str, ops: Mapping[str, str], prefix: str, errors: QueryErrors) -> frozenset[str] | None:
    if not ops:
        return None
    chosen: set[str] = set()
    for op, raw in ops.items():
        parts = [p.strip() for p in raw.split(",") if p.strip()] if op == "in" else [raw.strip()]
        name = f"filter[{fld}][{op}]"
        if op == "in" and len(parts) > MAX_IN:
            errors.add(name, "too_long", f"{name} accepts at most {MAX_IN} ids.")
        for part in parts:
            if not re.fullmatch(rf"{prefix}_[A-Za-z0-9]+", part):
                errors.add(name, "invalid_type", f"{name} values must be {prefix}_… ids.")
                break
            chosen.add(part)
    return frozenset(chosen)


ENGAGEMENT_FILTERS = {
    "engagement_type": ("eq", "in"),
    "processing_status": ("eq", "in"),
    "company_ids": ("eq", "in"),
    "contact_ids": ("eq", "in"),
    "start_at": _RANGE_OPS,
    "updated_at": _RANGE_OPS,
}


def parse_engagement_query(
    query: Mapping[str, str], after: Position | None = None
) -> tuple[EngagementQuery, tuple[str, ...]]:
    """`after` comes from the cursor (api/cursors.py ListWalk)."""
    errors = QueryErrors()
    limit, order, _ = parse_page_params(query, errors)
    filters = filter_params(query, ENGAGEMENT_FILTERS, nested=(CRM_FIELD,))
    crm = parse_crm_associations(query, CRM_OBJECT_TYPES, errors)
    expand = parse_expand(query, errors)
    result = EngagementQuery(
        order=order,
        limit=limit,
        after=after,
        search=query.get("search") or None,
        engagement_types=_enum_set("engagement_type", filters.get("engagement_type", {}), ENGAGEMENT_TYPES, errors),
        processing_statuses=_enum_set(
            "processing_status", filters.get("processing_status", {}), PROCESSING_STATUSES, errors
        ),
        start_at=time_range("start_at", filters.get("start_at", {}), errors),
        updated_at=time_range("updated_at", filters.get("updated_at", {}), errors),
        company_ids=_id_set("company_ids", filters.get("company_ids", {}), "cmp", errors),
        contact_ids=_id_set("contact_ids", filters.get("contact_ids", {}), "cnt", errors),
        crm_associations=crm or (),
    )
    errors.raise_if_any()
    return result, expand
