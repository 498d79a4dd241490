"""Schemathesis against the published OpenAPI document: no 5xx, and every answer conforms to the document.

The document is the contract suite's (`contract_tests/schemas/openapi.json`). Bounded and repeatable:
SCHEMATHESIS_EXAMPLES examples per operation and generation mode (default 5: generating a create body costs
~0.3 s), derandomized, no example
database. Operations the emulator does not serve yet are listed in the skip reason, not fuzzed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from tests.conftest import AUTH
from tests.reliability.serving import ThreadedEmulator

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import checks  # noqa: E402

DOCUMENT = Path(__file__).resolve().parents[2] / "contract_tests" / "schemas" / "openapi.json"
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "5"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def emulator() -> Iterator[ThreadedEmulator]:
    with ThreadedEmulator() as running:
        yield running


def operations() -> list[Any]:
    if not DOCUMENT.exists():
        return []
    schema = schemathesis.openapi.from_path(str(DOCUMENT))
    return [result.ok() for result in schema.get_all_operations()]


OPERATIONS = operations()
MODES = ("positive", "negative")


@pytest.mark.skipif(not DOCUMENT.exists(), reason=f"no OpenAPI document at {DOCUMENT} (the contract suite adds it)")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_operation_conforms_and_never_5xx(operation: Any, mode: str, emulator: ThreadedEmulator) -> None:
    if not emulator.serves(operation.method, operation.path):
        pytest.skip(f"{operation.label} is documented but not served yet")
    if mode == "negative" and not len(operation.body) and not len(operation.query):
        # Only free-form path segments and headers: any string is valid, so there is nothing to negate.
        pytest.skip(f"{operation.label} has no input that negative data could break")
    base_url = f"http://127.0.0.1:{emulator.port}/api"
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
        # e.g. a route whose only input is a free-form path segment: there is no invalid value to send.
        pytest.skip(f"no {mode} example can be generated for {operation.label}")
