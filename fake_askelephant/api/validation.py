"""Turn pydantic errors into the API's `errors[]` (api.md §4): field paths, our codes, clear messages.

pydantic itself loads with the first request that validates a body (the wire models' modules import it), not
with the server: no answer before that needs it (issue 22 §5, tests/emulator/test_startup_path.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..core.errors import FieldError
from .problems import validation_failed

if TYPE_CHECKING:
    from pydantic import BaseModel
    from pydantic_core import ErrorDetails

M = TypeVar("M", bound="BaseModel")

OUR_CODES = frozenset(
    {
        "required",
        "invalid_type",
        "too_short",
        "too_long",
        "invalid_range",
        "invalid_enum",
        "invalid_url",
        "unsafe_scheme",
        "insecure_scheme",
        "private_address",
        "unsupported_media_type",
        "media_unreachable",
        "multiple_owners",
    }
)
_TYPE_NAMES = {
    "string_type": "a string",
    "bool_type": "a boolean",
    "int_type": "an integer",
    "float_type": "a number",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "int_from_float": "an integer",
    "none_required": "null",
}


def field_path(loc: Sequence[int | str], prefix: str = "") -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def to_field_error(err: ErrorDetails, prefix: str = "") -> FieldError:
    kind = err["type"]
    field = field_path(err["loc"], prefix) or prefix or "body"
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    if kind in OUR_CODES:
        # Validators phrase their messages as predicates ("must …"); policies write whole sentences.
        msg = err["msg"]
        return FieldError(field, kind, f"{field} {msg}." if msg.startswith("must") else msg)
    if kind == "missing":
        return FieldError(field, "required", f"{field} is required.")
    if kind in ("string_too_short", "too_short"):
        unit = "character" if kind.startswith("string") else "item"
        n = ctx.get("min_length", 1)
        return FieldError(field, "too_short", f"{field} must have at least {n} {unit}{'s' if n != 1 else ''}.")
    if kind in ("string_too_long", "too_long"):
        unit = "characters" if kind.startswith("string") else "items"
        return FieldError(field, "too_long", f"{field} must have at most {ctx.get('max_length')} {unit}.")
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
        limit = next(iter(v for k, v in ctx.items() if k in ("ge", "gt", "le", "lt")), "")
        return FieldError(field, "invalid_range", f"{field} must be {bound} {limit}.")
    if kind in ("literal_error", "enum") and not isinstance(err.get("input"), str):
        return FieldError(field, "invalid_type", f"{field} must be a string.")
    if kind in ("literal_error", "enum"):
        return FieldError(field, "invalid_enum", f"{field} must be one of {ctx.get('expected', 'the allowed values')}.")
    if kind in _TYPE_NAMES:
        return FieldError(field, "invalid_type", f"{field} must be {_TYPE_NAMES[kind]}.")
    return FieldError(field, "invalid_type", f"{field}: {err['msg']}.")


def in_request_order(errors: Iterable[FieldError], keys: Sequence[str]) -> list[FieldError]:
    """Sort by where each error's top-level field sits in the body; stable within a field (api.md §4)."""
    position = {k: i for i, k in enumerate(keys)}
    return sorted(errors, key=lambda e: position.get(e.field.split(".")[0].split("[")[0], len(position)))


def validate(model: type[M], data: dict[str, Any], extra_errors: Iterable[FieldError] = ()) -> M:
    """Validate `data`; on failure raise a 422 listing every failing field, in request order."""
    from pydantic import ValidationError  # loaded already: `model` is a pydantic model

    errors = list(extra_errors)
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        errors = [to_field_error(e) for e in exc.errors(include_url=False)] + errors
        result = None
    if errors or result is None:
        raise validation_failed(in_request_order(_dedupe(errors), list(data)))
    return result


def _dedupe(errors: Iterable[FieldError]) -> list[FieldError]:
    seen: set[tuple[str, str]] = set()
    out = []
    for e in errors:
        if (e.field, e.code) not in seen:
            seen.add((e.field, e.code))
            out.append(e)
    return out
