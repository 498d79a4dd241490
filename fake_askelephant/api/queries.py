"""Query parameters of the list and read routes (api.md §6.1, §6.3, §8): limit, cursor, order_by, search,
filter[…] (with filter[crm_associations] in both documented encodings) and expand.

Every bad value is collected in a QueryErrors, so one 422 lists them all; syntax no field rule can read is a 400.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field
from typing import Any

from ..core import jsonutil
from ..core.crm import CRM_OBJECT_TYPES, MAX_CRM_ENTRIES, CrmRef
from ..core.engagements import EngagementQuery
from ..core.errors import FieldError
from ..core.models import ENGAGEMENT_TYPES, PROCESSING_STATUSES
from ..core.paging import DEFAULT_LIMIT, DEFAULT_ORDER, MAX_LIMIT, ORDERS, ListQuery, Position, TimeRange
from ..core.records import dataclass
from ..core.timefmt import TimestampOutOfRange, parse_iso
from .problems import Problem, validation_failed

REPEATABLE = frozenset({"expand"})
EXPANDS = ("companies", "contacts", "owner", "action_items", "signals", "transcript", "media_url", "tags")
MAX_IN = 25
_FILTER = re.compile(r"^filter\[([a-z_]+)\]\[([a-z_]+)\]$")
_RANGE_OPS = ("gt", "gte", "lt", "lte")
CRM_FIELD = "crm_associations"
CRM_BASE = f"filter[{CRM_FIELD}]"
CRM_EQ = f"{CRM_BASE}[eq]"
_CRM_INDEXED = re.compile(r"^filter\[crm_associations\]\[eq\]\[([0-9]{1,6})\]\[([a-z_]+)\]$")
_CRM_KEYS = ("id", "object_type")
MAX_CRM_ID = 255  # like a stored association's crm_object_id (emulator choice)


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


def once(query: Mapping[str, str], repeatable: Iterable[str] = REPEATABLE) -> Mapping[str, str]:
    """The one rule for repeated query parameters, on every list route (emulator choice, api.md §8).

    A parameter given twice (`limit=1&limit=50`) is a 400 naming it: no first-wins or last-wins guess.
    `expand` is the exception, a list whose repetitions add up like its commas (api.md §6.1).
    """
    if hasattr(query, "getall"):
        allowed = frozenset(repeatable)
        repeated = [name for name in dict.fromkeys(query) if name not in allowed and len(query.getall(name)) > 1]
        if repeated:
            names = ", ".join(repr(n) for n in repeated)
            raise Problem(400, f"Query parameter {names} is given more than once; send each parameter once.")
    return query


def parse_int(
    query: Mapping[str, str], name: str, errors: QueryErrors, *, low: int | None = None, high: int | None = None
) -> int | None:
    """An integer query value written in ASCII digits only: no `+`, spaces, `_` or other scripts' digits."""
    if name not in query:
        return None
    raw = query[name]
    digits = raw.removeprefix("-")  # a negative number is an integer, out of every range here
    if not digits or not digits.isascii() or not digits.isdigit():
        errors.add(name, "invalid_type", f"{name} must be an integer written with the digits 0-9.")
        return None
    value = int(raw)
    if (low is not None and value < low) or (high is not None and value > high):
        errors.add(name, "invalid_range", f"{name} must be between {low} and {high}.")
        return None
    return value


def parse_page_params(query: Mapping[str, str], errors: QueryErrors) -> tuple[int, str, str | None]:
    once(query)
    limit = parse_int(query, "limit", errors, low=1, high=MAX_LIMIT)
    if limit is None:
        limit = DEFAULT_LIMIT
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

    `nested` names fields with deeper syntax that another parser reads (filter[crm_associations] below).
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


# What each route reads (api/context.py query_params), and what it cannot use ------------------------------

PAGING = ("limit", "cursor", "order_by")
FILTERS = "filter["  # a prefix: every filter[…] name is read (and judged) by the route's filter parser
ENGAGEMENT_LIST_PARAMS = (*PAGING, "search", FILTERS, "expand")
# A contact's or company's engagements: the path names whose; no id or CRM filters (emulator choice).
SCOPED_ENGAGEMENT_PARAMS = ENGAGEMENT_LIST_PARAMS
SCOPED_ENGAGEMENT_FILTERS = {
    "engagement_type": ("eq", "in"),
    "processing_status": ("eq", "in"),
    "start_at": ("gt", "gte", "lt", "lte"),
    "updated_at": ("gt", "gte", "lt", "lte"),
}
DIRECTORY_LIST_PARAMS = (*PAGING, "search", FILTERS)
TAG_LIST_PARAMS = (*PAGING, FILTERS)  # the list-tags page documents no search


def query_param_complaints(query: Mapping[str, str], accepted: Sequence[str]) -> list[tuple[str, str]]:
    """(name, why) for each parameter the route does not read or cannot read (issue 20 §10), in request order.

    Unknown names (`limti`, `expand[]` as axios encodes arrays, `search` on tags) are ignored by the route;
    an `expand` with an empty entry (`expand=`, `expand=,`, `expand=action_items,`) is malformed.
    """
    names = [n for n in accepted if not n.endswith("[")]
    prefixes = tuple(n for n in accepted if n.endswith("["))
    out: list[tuple[str, str]] = []
    for name in dict.fromkeys(query):
        if name not in names and not (prefixes and name.startswith(prefixes)):
            hint = " (send expand=a,b: one comma-separated parameter)" if name.startswith("expand[") else ""
            out.append((name, f"query parameter {_ascii(name)} is not one this route reads and was ignored{hint}"))
        elif name == "expand":
            values = query.getall(name) if hasattr(query, "getall") else [query[name]]
            if any(not part.strip() for value in values for part in value.split(",")):
                shown = ", ".join(_ascii(v) for v in values)
                out.append((name, f"query parameter 'expand' has an empty entry ({shown}), which was ignored"))
    return out


def _ascii(text: str) -> str:
    """A query name or value fit for a header: printable ASCII, the rest escaped, quotes and backslashes too."""
    shown = text if len(text) <= 60 else text[:57] + "..."
    escaped = shown.encode("ascii", "backslashreplace").decode("ascii")
    return repr(escaped.replace('"', "'"))


# Routes ----------------------------------------------------------------------------------------------

ENGAGEMENT_FILTERS = {
    "engagement_type": ("eq", "in"),
    "processing_status": ("eq", "in"),
    "company_ids": ("eq", "in"),
    "contact_ids": ("eq", "in"),
    "start_at": _RANGE_OPS,
    "updated_at": _RANGE_OPS,
}


def parse_engagement_query(
    query: Mapping[str, str],
    after: Position | None = None,
    *,
    filters: Mapping[str, tuple[str, ...]] = ENGAGEMENT_FILTERS,
    crm: bool = True,
) -> tuple[EngagementQuery, tuple[str, ...]]:
    """`after` comes from the cursor (api/cursors.py ListWalk); a contact's or company's engagements take fewer
    `filters` and no CRM entries."""
    errors = QueryErrors()
    limit, order, _ = parse_page_params(query, errors)
    parsed = filter_params(query, filters, nested=(CRM_FIELD,) if crm else ())
    crm_refs = parse_crm_associations(query, CRM_OBJECT_TYPES, errors) if crm else None
    expand = parse_expand(query, errors)
    result = EngagementQuery(
        order=order,
        limit=limit,
        after=after,
        search=query.get("search") or None,
        engagement_types=_enum_set("engagement_type", parsed.get("engagement_type", {}), ENGAGEMENT_TYPES, errors),
        processing_statuses=_enum_set(
            "processing_status", parsed.get("processing_status", {}), PROCESSING_STATUSES, errors
        ),
        start_at=time_range("start_at", parsed.get("start_at", {}), errors),
        updated_at=time_range("updated_at", parsed.get("updated_at", {}), errors),
        company_ids=_id_set("company_ids", parsed.get("company_ids", {}), "cmp", errors),
        contact_ids=_id_set("contact_ids", parsed.get("contact_ids", {}), "cnt", errors),
        crm_associations=crm_refs or (),
    )
    errors.raise_if_any()
    return result, expand


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
    known = {"updated_at": _RANGE_OPS, **(filters or {})}
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


def parse_crm_associations(
    query: Mapping[str, str], allowed_types: Sequence[str], errors: QueryErrors
) -> tuple[CrmRef, ...] | None:
    """`filter[crm_associations][eq]` in both documented encodings (api.md §6.3, §10), entries added up:

        filter[crm_associations][eq][0][id]=12345&filter[crm_associations][eq][0][object_type]=company
        filter[crm_associations][eq]=[{"id":"12345","object_type":"company"}]

    Returns the entries, or None when the filter is absent or empty (then it filters nothing). Errors (emulator
    choice): an unparseable name, index or JSON text → 400; a repeated parameter → 400; a missing
    `id`/`object_type`, a key besides those two, a wrong type, an id over 255 characters, an object type the
    route does not take or more than 20 entries → 422, named like the indexed form.
    """
    raw_entries: list[tuple[int, dict[str, Any]]] = []
    indexed: dict[int, dict[str, Any]] = {}
    for name in dict.fromkeys(k for k in query if k.startswith(CRM_BASE)):
        values = query.getall(name) if hasattr(query, "getall") else [query[name]]
        if len(values) > 1:
            raise Problem(400, f"Query parameter {name!r} is given more than once.")
        value = values[0]
        if name == CRM_EQ:
            raw_entries.extend(enumerate(_json_entries(value, errors)))
            continue
        m = _CRM_INDEXED.match(name)
        if m is None:
            if re.fullmatch(r"filter\[crm_associations\]\[[a-z_]+\]", name):
                errors.add(name, "invalid_enum", f"{CRM_BASE} supports eq only.")
                continue
            raise Problem(400, f"Query parameter {name!r} is not of the form {CRM_EQ}[<n>][id|object_type].")
        index, key = int(m.group(1)), m.group(2)
        if key not in _CRM_KEYS:
            errors.add(name, "invalid_enum", f"{name}: entries take id and object_type only.")
            continue
        indexed.setdefault(index, {})[key] = value
    offset = len(raw_entries)
    raw_entries.extend((offset + position, indexed[i]) for position, i in enumerate(sorted(indexed)))
    if len(raw_entries) > MAX_CRM_ENTRIES:
        errors.add(CRM_EQ, "too_long", f"{CRM_EQ} accepts at most {MAX_CRM_ENTRIES} entries.")
        return None
    refs = [ref for n, entry in raw_entries if (ref := _entry(n, entry, allowed_types, errors)) is not None]
    return tuple(refs) or None


def _json_entries(text: str, errors: QueryErrors) -> list[dict[str, Any]]:
    try:
        data = jsonutil.loads(text)
    except jsonutil.JSONDecodeError as exc:
        raise Problem(400, f"{CRM_EQ} is neither JSON nor indexed entries: {exc}.") from exc
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        errors.add(CRM_EQ, "invalid_type", f'{CRM_EQ} must be a JSON array of {{"id","object_type"}} objects.')
        return []
    return data


def _entry(n: int, entry: Mapping[str, Any], allowed_types: Sequence[str], errors: QueryErrors) -> CrmRef | None:
    ok = True
    for key in entry:
        if key not in _CRM_KEYS:  # as the indexed form: entries take id and object_type only
            errors.add(f"{CRM_EQ}[{n}][{key}]", "invalid_enum", f"{CRM_EQ}[{n}]: entries take id and object_type only.")
            ok = False
    crm_id = entry.get("id")
    if isinstance(crm_id, float) and crm_id.is_integer():
        crm_id = int(crm_id)  # JSON has one number type: 12345.0, or an integer past 64 bits, is an integer
    if crm_id is None:
        errors.add(f"{CRM_EQ}[{n}][id]", "required", f"{CRM_EQ}[{n}][id] is required.")
        ok = False
    elif isinstance(crm_id, bool) or not isinstance(crm_id, str | int) or str(crm_id) == "":
        errors.add(f"{CRM_EQ}[{n}][id]", "invalid_type", f"{CRM_EQ}[{n}][id] must be a non-empty string.")
        ok = False
    elif isinstance(crm_id, str) and len(crm_id) > MAX_CRM_ID:
        errors.add(f"{CRM_EQ}[{n}][id]", "too_long", f"{CRM_EQ}[{n}][id] must have at most {MAX_CRM_ID} characters.")
        ok = False
    object_type = entry.get("object_type")
    if object_type is None:
        errors.add(f"{CRM_EQ}[{n}][object_type]", "required", f"{CRM_EQ}[{n}][object_type] is required.")
        ok = False
    elif not isinstance(object_type, str):
        errors.add(f"{CRM_EQ}[{n}][object_type]", "invalid_type", f"{CRM_EQ}[{n}][object_type] must be a string.")
        ok = False
    elif object_type not in allowed_types:
        errors.add(
            f"{CRM_EQ}[{n}][object_type]",
            "invalid_enum",
            f"{CRM_EQ}[{n}][object_type] must be one of {', '.join(allowed_types)} here.",
        )
        ok = False
    return CrmRef(str(crm_id), str(object_type)) if ok else None
