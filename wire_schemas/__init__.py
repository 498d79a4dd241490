"""JSON Schemas (Draft 2020-12) and the OpenAPI 3.1 document of the AskElephant v2 wire format.

The neutral home of the wire format: the emulator serves these files (`/__admin/schemas`, `/__admin/openapi.json`)
and the contract suites judge with them, yet neither imports the other. Standard library only, and no imports from
either package: setup.py ships this folder inside both (`fake_askelephant.wire_schemas`,
`contract_tests.wire_schemas`), so the wheel adds no top-level package; a source checkout imports it from the
repository root.

Subschemas annotated ``"x-emulator-choice": true`` state the emulator's choices beyond the public docs; the
contract suites relax them against the real API (contract_tests/schemas).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

SCHEMA_BASE_URI = "https://askelephant-contract.invalid/schemas/"
EMULATOR_CHOICE = "x-emulator-choice"
OPENAPI_NAME = "openapi"


def list_schemas() -> list[str]:
    """Names of the JSON Schemas (file stems, e.g. ``"engagement"``), sorted; not the OpenAPI document."""
    files = resources.files(__package__).iterdir()
    names = (f.name.removesuffix(".json") for f in files if f.name.endswith(".json"))
    return sorted(n for n in names if n != OPENAPI_NAME)


@cache
def raw(name: str) -> dict[str, Any]:
    """The file as written (shared: callers copy before changing it)."""
    if name != OPENAPI_NAME and name not in list_schemas():
        raise KeyError(f"unknown schema {name!r}; known: {', '.join(list_schemas())}")
    text = resources.files(__package__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_schema(name: str, *, base_uri: str | None = None) -> dict[str, Any]:
    """A deep copy of schema ``name`` as written.

    Args:
        base_uri: when serving the schemas (``/__admin/schemas/``), their own URL folder; the ``$id``
            then points there, so relative ``$ref``s (``common.json#/...``) resolve to the served siblings.

    Raises:
        KeyError: no such schema.
    """
    schema = copy.deepcopy(raw(name))
    if base_uri is not None:
        schema["$id"] = base_uri.rstrip("/") + f"/{name}.json"
    return schema


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the v2 routes (a deep copy): what ``/__admin/openapi.json`` serves.

    Generated from the emulator's own models (``python -m fake_askelephant.api.openapi``) and self-contained:
    every schema is under ``components.schemas``. The JSON Schemas beside it are the contract's hand-written
    judges; the document is what the emulator does, including its choices.
    """
    return copy.deepcopy(raw(OPENAPI_NAME))
