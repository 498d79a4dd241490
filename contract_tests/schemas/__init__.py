"""JSON Schemas (Draft 2020-12) of the AskElephant v2 wire format, shipped as package data.

Two profiles of every schema:

- ``"emulator"``: the file as written, documented facts plus the emulator's choices
  (subschemas annotated ``"x-emulator-choice": true``). What ``/__admin/schemas/...`` serves.
- ``"docs"``: every annotated subschema replaced by ``true``, so only what the public docs
  state is enforced; used against the real API.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # stdlib-only at import: the emulator serves these files without the [contract] extra
    from jsonschema import Draft202012Validator
    from referencing import Registry

Profile = Literal["emulator", "docs"]

SCHEMA_BASE_URI = "https://askelephant-contract.invalid/schemas/"
EMULATOR_CHOICE = "x-emulator-choice"
OPENAPI_NAME = "openapi"

__all__ = [
    "SCHEMA_BASE_URI",
    "Profile",
    "list_schemas",
    "load_schema",
    "openapi_document",
    "registry",
    "validator",
]


def list_schemas() -> list[str]:
    """Names of the shipped JSON Schemas (file stems, e.g. ``"engagement"``), sorted; not the OpenAPI doc."""
    files = resources.files(__package__).iterdir()
    names = (f.name.removesuffix(".json") for f in files if f.name.endswith(".json"))
    return sorted(n for n in names if n != OPENAPI_NAME)


@cache
def _raw(name: str) -> dict[str, Any]:
    if name != OPENAPI_NAME and name not in list_schemas():
        raise KeyError(f"unknown schema {name!r}; known: {', '.join(list_schemas())}")
    text = resources.files(__package__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


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
        base_uri: when serving the schemas (``/__admin/schemas/``), their own URL folder; the ``$id``
            then points there, so relative ``$ref``s (``common.json#/...``) resolve to the served siblings.

    Raises:
        KeyError: no such schema.
    """
    schema = copy.deepcopy(_raw(name))
    if profile == "docs":
        relaxed = _relax(schema)
        # A whole schema marked as a choice still needs its $id for $ref resolution.
        schema = relaxed if isinstance(relaxed, dict) else {"$id": schema["$id"]}
    if base_uri is not None:
        schema["$id"] = base_uri.rstrip("/") + f"/{name}.json"
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


def openapi_document(*, bundled: bool = True) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the v2 routes.

    ``bundled=True`` (what ``/__admin/openapi.json`` serves): every schema file is copied under
    ``components.schemas`` and file ``$ref``s are rewritten to ``#/components/schemas/...``, so tools
    need no second fetch. ``bundled=False``: the stored file, whose ``$ref``s name sibling files.
    """
    doc = copy.deepcopy(_raw(OPENAPI_NAME))
    if not bundled:
        return doc
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in list_schemas():
        components[name] = _rewrite_refs(load_schema(name), name)
    bundled_doc: dict[str, Any] = _rewrite_refs(doc, None)
    return bundled_doc


def _rewrite_refs(node: Any, current: str | None) -> Any:
    """Turn ``"x.json#/frag"`` and in-file ``"#/frag"`` refs into component refs."""
    if isinstance(node, dict):
        out = {k: _rewrite_refs(v, current) for k, v in node.items() if k != "$id"}
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#/components/"):
            file_part, _, fragment = ref.partition("#")
            target = file_part.removesuffix(".json") if file_part else current
            if target is not None:
                out["$ref"] = f"#/components/schemas/{target}{fragment}"
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, current) for v in node]
    return node
