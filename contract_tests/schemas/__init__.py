"""The wire format's JSON Schemas (Draft 2020-12) as the contract suites judge with them.

The files live in the neutral `wire_schemas` package, shared with the emulator without either importing the
other. Two profiles of every schema:

- ``"emulator"``: the file as written, documented facts plus the emulator's choices
  (subschemas annotated ``"x-emulator-choice": true``). What ``/__admin/schemas/...`` serves.
- ``"docs"``: every annotated subschema replaced by ``true``, so only what the public docs
  state is enforced; used against the real API.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # stdlib-only at import: plain `pip install .` users load the pytest plugin
    from jsonschema import Draft202012Validator
    from referencing import Registry


def _wire_schemas() -> ModuleType:
    """The installed copy (setup.py ships wire_schemas/ inside contract_tests), else a source checkout's."""
    try:
        return importlib.import_module("contract_tests.wire_schemas")
    except ModuleNotFoundError:
        return importlib.import_module("wire_schemas")


if TYPE_CHECKING:
    import wire_schemas as wire
else:
    wire = _wire_schemas()

Profile = Literal["emulator", "docs"]

SCHEMA_BASE_URI = wire.SCHEMA_BASE_URI
EMULATOR_CHOICE = wire.EMULATOR_CHOICE
list_schemas = wire.list_schemas
openapi_document = wire.openapi_document

__all__ = [
    "SCHEMA_BASE_URI",
    "Profile",
    "list_schemas",
    "load_schema",
    "openapi_document",
    "registry",
    "validator",
]


def _relax(node: Any) -> Any:
    """Replace every subschema marked as an emulator choice by ``true``."""
    if isinstance(node, dict):
        if node.get(EMULATOR_CHOICE) is True:
            return True
        return {k: _relax(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_relax(v) for v in node]
    return node


def load_schema(name: str, profile: Profile = "emulator", *, base_uri: str | None = None) -> dict[str, Any]:
    """Return a deep copy of schema ``name`` in ``profile``.

    Args:
        base_uri: when serving the schemas, their own URL folder (wire_schemas.load_schema).

    Raises:
        KeyError: no such schema.
    """
    schema = wire.load_schema(name, base_uri=base_uri)
    if profile == "docs":
        relaxed = _relax(schema)
        # A whole schema marked as a choice still needs its $id for $ref resolution.
        schema = relaxed if isinstance(relaxed, dict) else {"$id": schema["$id"]}
    return schema


@cache
def registry(profile: Profile = "emulator") -> Registry:
    """A ``referencing`` registry holding every schema by its ``$id``, so relative ``$ref``s resolve."""
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    resources_ = [
        (SCHEMA_BASE_URI + f"{name}.json", DRAFT202012.create_resource(load_schema(name, profile)))
        for name in list_schemas()
    ]
    return Registry().with_resources(resources_)


@cache
def validator(name: str, profile: Profile = "emulator") -> Draft202012Validator:
    """A validator for schema ``name``; ``iter_errors`` lists every violation."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(name, profile), registry=registry(profile))
