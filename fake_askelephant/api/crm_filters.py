"""`filter[crm_associations][eq]` in both documented encodings (api.md §6.3, §10).

    filter[crm_associations][eq][0][id]=12345&filter[crm_associations][eq][0][object_type]=company
    filter[crm_associations][eq]=[{"id":"12345","object_type":"company"}]

Both may be sent together; their entries add up. Errors (emulator choice): an unparseable name, index or
JSON text → 400; a repeated parameter → 400; a missing `id`/`object_type`, a key besides those two, a wrong
type, an id over 255 characters, an object type the route does not take or more than 20 entries → 422,
named like the indexed form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..core import jsonutil
from ..core.crm import MAX_CRM_ENTRIES, CrmRef
from .problems import Problem

if TYPE_CHECKING:  # queries.py imports this module
    from .queries import QueryErrors

FIELD = "crm_associations"
BASE = f"filter[{FIELD}]"
EQ = f"{BASE}[eq]"
_INDEXED = re.compile(r"^filter\[crm_associations\]\[eq\]\[(\d{1,6})\]\[([a-z_]+)\]$")
_KEYS = ("id", "object_type")
MAX_CRM_ID = 255  # like a stored association's crm_object_id (emulator choice)


def parse_crm_associations(
    query: Mapping[str, str], allowed_types: Sequence[str], errors: QueryErrors
) -> tuple[CrmRef, ...] | None:
    """The entries, or None when the filter is absent or empty (then it filters nothing)."""
    raw_entries: list[tuple[int, dict[str, Any]]] = []
    indexed: dict[int, dict[str, Any]] = {}
    for name in dict.fromkeys(k for k in query if k.startswith(BASE)):
        values = query.getall(name) if hasattr(query, "getall") else [query[name]]
        if len(values) > 1:
            raise Problem(400, f"Query parameter {name!r} is given more than once.")
        value = values[0]
        if name == EQ:
            raw_entries.extend(enumerate(_json_entries(value, errors)))
            continue
        m = _INDEXED.match(name)
        if m is None:
            if re.fullmatch(r"filter\[crm_associations\]\[[a-z_]+\]", name):
                errors.add(name, "invalid_enum", f"{BASE} supports eq only.")
                continue
            raise Problem(400, f"Query parameter {name!r} is not of the form {EQ}[<n>][id|object_type].")
        index, key = int(m.group(1)), m.group(2)
        if key not in _KEYS:
            errors.add(name, "invalid_enum", f"{name}: entries take id and object_type only.")
            continue
        indexed.setdefault(index, {})[key] = value
    offset = len(raw_entries)
    raw_entries.extend((offset + position, indexed[i]) for position, i in enumerate(sorted(indexed)))
    if len(raw_entries) > MAX_CRM_ENTRIES:
        errors.add(EQ, "too_long", f"{EQ} accepts at most {MAX_CRM_ENTRIES} entries.")
        return None
    refs = [ref for n, entry in raw_entries if (ref := _entry(n, entry, allowed_types, errors)) is not None]
    return tuple(refs) or None


def _json_entries(text: str, errors: QueryErrors) -> list[dict[str, Any]]:
    try:
        data = jsonutil.loads(text)
    except jsonutil.JSONDecodeError as exc:
        raise Problem(400, f"{EQ} is neither JSON nor indexed entries: {exc}.") from exc
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        errors.add(EQ, "invalid_type", f'{EQ} must be a JSON array of {{"id","object_type"}} objects.')
        return []
    return data


def _entry(n: int, entry: Mapping[str, Any], allowed_types: Sequence[str], errors: QueryErrors) -> CrmRef | None:
    ok = True
    for key in entry:
        if key not in _KEYS:  # as the indexed form: entries take id and object_type only
            errors.add(f"{EQ}[{n}][{key}]", "invalid_enum", f"{EQ}[{n}]: entries take id and object_type only.")
            ok = False
    crm_id = entry.get("id")
    if isinstance(crm_id, float) and crm_id.is_integer():
        crm_id = int(crm_id)  # JSON has one number type: 12345.0, or an integer past 64 bits, is an integer
    if crm_id is None:
        errors.add(f"{EQ}[{n}][id]", "required", f"{EQ}[{n}][id] is required.")
        ok = False
    elif isinstance(crm_id, bool) or not isinstance(crm_id, str | int) or str(crm_id) == "":
        errors.add(f"{EQ}[{n}][id]", "invalid_type", f"{EQ}[{n}][id] must be a non-empty string.")
        ok = False
    elif isinstance(crm_id, str) and len(crm_id) > MAX_CRM_ID:
        errors.add(f"{EQ}[{n}][id]", "too_long", f"{EQ}[{n}][id] must have at most {MAX_CRM_ID} characters.")
        ok = False
    object_type = entry.get("object_type")
    if object_type is None:
        errors.add(f"{EQ}[{n}][object_type]", "required", f"{EQ}[{n}][object_type] is required.")
        ok = False
    elif not isinstance(object_type, str):
        errors.add(f"{EQ}[{n}][object_type]", "invalid_type", f"{EQ}[{n}][object_type] must be a string.")
        ok = False
    elif object_type not in allowed_types:
        errors.add(
            f"{EQ}[{n}][object_type]",
            "invalid_enum",
            f"{EQ}[{n}][object_type] must be one of {', '.join(allowed_types)} here.",
        )
        ok = False
    return CrmRef(str(crm_id), str(object_type)) if ok else None
