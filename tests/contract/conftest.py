"""Fixtures for running the API suites against the in-process emulator and against broken proxies of it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from contract_tests.checks import EXAMPLES_ENV, STEPS_ENV, Budget
from contract_tests.http import LoopThread
from contract_tests.inprocess import ThreadedServer
from contract_tests.target import Target
from tests.contract.broken_proxy import build_broken_proxy

# Small by default so tests/contract stays well under two minutes; raise via the env for deeper runs.
TEST_BUDGET = Budget(
    max_examples=int(os.environ.get(EXAMPLES_ENV, "8")),
    stateful_steps=int(os.environ.get(STEPS_ENV, "15")),
    concurrency=12,
)
# Proving a suite fails needs one failing example, not a minimal one.
BROKEN_BUDGET = Budget(max_examples=TEST_BUDGET.max_examples, stateful_steps=15, concurrency=8, shrink=False)


@pytest.fixture(scope="session")
def emulator_target(askelephant_loop: LoopThread, fake_askelephant_server: str) -> Iterator[Target]:
    target = Target.open(fake_askelephant_server, loop=askelephant_loop)
    try:
        yield target
    finally:
        target.close()


@pytest.fixture
def broken_target(askelephant_loop: LoopThread, fake_askelephant_server: str) -> Iterator[Callable[[str], Target]]:
    """``open(mode) -> Target`` through a proxy that breaks one behaviour of the emulator."""
    opened: list[tuple[ThreadedServer, Target]] = []
    origin = fake_askelephant_server.removesuffix("/api")

    def open_(mode: str) -> Target:
        server = ThreadedServer(build_broken_proxy(origin, mode)).start()
        target = Target.open(server.origin + "/api", loop=askelephant_loop)
        opened.append((server, target))
        return target

    yield open_
    for server, target in opened:
        target.close()
        server.stop()
