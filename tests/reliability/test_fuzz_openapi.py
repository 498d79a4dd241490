"""Schemathesis against the published OpenAPI document: no 5xx, and every answer conforms to the document.

The document is the contract suite's (`contract_tests/schemas/openapi.json`). Bounded and repeatable:
SCHEMATHESIS_EXAMPLES examples per operation and generation mode (default 5: generating a create body costs
~0.3 s), derandomized, no example
database. Operations the emulator does not serve yet are listed in the skip reason, not fuzzed.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from fake_askelephant.app import create_app
from tests.conftest import AUTH, frozen_settings

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


class ThreadedEmulator:
    """The emulator on its own event loop in a thread: schemathesis calls it synchronously over loopback."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.app = create_app(frozen_settings())
        self.port = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.runner = web.AppRunner(self.app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = self.runner.addresses[0][1]
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    def __enter__(self) -> ThreadedEmulator:
        self.thread.start()
        assert self.ready.wait(30), "emulator thread did not start"
        return self

    def __exit__(self, *_: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)

    def serves(self, method: str, path: str) -> bool:
        canonical = {(r.method, r.resource.canonical) for r in self.app.router.routes() if r.resource is not None}
        return (method.upper(), "/api" + path) in canonical


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
