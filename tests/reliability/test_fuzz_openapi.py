"""Schemathesis against the OpenAPI document the emulator serves at /__admin/openapi.json: no 5xx, and every
answer conforms to the document (status codes, content types, headers, response schemas).

Bounded and repeatable: SCHEMATHESIS_EXAMPLES examples per operation and generation mode (default 5;
generating one create body costs ~0.3 s), derandomized, no example database. Documented operations the
emulator does not serve yet are skipped with their names. Skipped as a whole only when the contract's
document (`wire_schemas/openapi.json`) is absent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import checks

from tests.conftest import AUTH, OnAThread, served_on_a_thread

DOCUMENT = Path(__file__).resolve().parents[2] / "wire_schemas" / "openapi.json"
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "5"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
MODES = ("positive", "negative")


def operations(schema: Any) -> list[Any]:
    """Every operation of a loaded document; an operation schemathesis cannot load fails the run."""
    return [result.ok() for result in schema.get_all_operations()]


def documented_labels() -> list[str]:
    """Operation labels for parametrizing; the operations fuzzed come from the served document."""
    return [op.label for op in operations(schemathesis.openapi.from_path(str(DOCUMENT)))]


LABELS = documented_labels()


def serves(emulator: OnAThread, method: str, path: str) -> bool:
    canonical = {(r.method, r.resource.canonical) for r in emulator.app.router.routes() if r.resource is not None}
    return (method.upper(), "/api" + path) in canonical


@pytest.fixture(scope="module")
def emulator() -> Iterator[OnAThread]:
    with served_on_a_thread() as running:
        yield running


@pytest.fixture(scope="module")
def served(emulator: OnAThread) -> dict[str, Any]:
    schema = schemathesis.openapi.from_url(f"{emulator.origin}/__admin/openapi.json")
    return {op.label: op for op in operations(schema)}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("label", LABELS)
def test_operation_conforms_and_never_5xx(label: str, mode: str, emulator: OnAThread, served: dict[str, Any]) -> None:
    operation = served[label]
    # Every documented operation must be served: a route missing from the emulator fails here.
    assert serves(emulator, operation.method, operation.path), f"{label} is documented but not served"
    if mode == "negative" and not len(operation.body) and not len(operation.query):
        # Only free-form path segments and headers: any string is valid, so there is nothing to negate.
        pytest.skip(f"{label} has no input that negative data could break")
    base_url = f"{emulator.origin}/api"
    strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode))

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=dict(AUTH))
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        pytest.skip(f"no {mode} example can be generated for {label}")
