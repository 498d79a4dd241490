"""pytest plugin (entry point ``pytest11``): the ``fake_askelephant`` fixture, an isolated workspace per test.

    def test_my_dialer(fake_askelephant):
        my_client = MyDialer(fake_askelephant.base_url, fake_askelephant.api_key)
        ...
        fake_askelephant.advance(seconds=600)

Scope and isolation: the emulator is session-scoped, one per pytest process (so one per pytest-xdist worker),
served from a thread with a frozen clock and seed 1; ``--fake-askelephant-url`` (or ``ASKELEPHANT_EMULATOR_URL``)
uses a running one instead, shared by every worker. Each test gets a new workspace with its own
``workspace:admin`` key, reset when the test ends, so no test sees another's data. Plain ``def`` tests need
nothing more; async tests (any runner) use the same fixture and ``await fake_askelephant.aio.…``.

Loaded in every pytest run of every project that installed the package: it imports nothing heavy until a test
asks for the fixture.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from fake_askelephant.testing import FakeAskElephant

URL_ENV = "ASKELEPHANT_EMULATOR_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fake_askelephant", "the fake_askelephant fixture")
    group.addoption(
        "--fake-askelephant-url",
        default=os.environ.get(URL_ENV),
        help=f"a running emulator (e.g. http://127.0.0.1:8787) for the fixture, shared by all workers "
        f"(default ${URL_ENV}, else one in-process emulator per pytest process)",
    )


@pytest.fixture(scope="session")
def fake_askelephant_origin(request: pytest.FixtureRequest) -> Iterator[str]:
    """The emulator's origin (http://127.0.0.1:PORT): the running one named, else one started in-process."""
    url = request.config.getoption("--fake-askelephant-url")
    if url:
        yield str(url).rstrip("/").removesuffix("/api")
        return
    from fake_askelephant.testing import InProcessEmulator

    emulator = InProcessEmulator().start()
    try:
        yield emulator.origin
    finally:
        emulator.stop()


@pytest.fixture
def fake_askelephant(fake_askelephant_origin: str) -> Iterator[FakeAskElephant]:
    """A new workspace and its admin key on the session's emulator; cleared when the test ends."""
    from fake_askelephant.testing import FakeAskElephant

    fake = FakeAskElephant.open(fake_askelephant_origin)
    try:
        yield fake
    finally:
        fake.reset()  # its pending pipeline stages and deliveries would otherwise run in later tests' advances
