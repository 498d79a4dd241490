"""pytest plugin (entry point ``pytest11``): fixtures to run the contract suites from a vendor's own tests.

    def test_api_contract(askelephant_api_contract):
        report = askelephant_api_contract(suites=["create", "lists"])
        assert report.ok, report.to_text()

    def test_my_receiver(webhook_receiver_contract, my_receiver_url):
        report = webhook_receiver_contract.run(my_receiver_url, "whsec_…")
        assert report.ok, report.to_text()

Target: ``--askelephant-target-url`` (or ``ASKELEPHANT_TARGET_URL``); without one, an in-process emulator.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from contract_tests.checks import Budget
    from contract_tests.http import LoopThread
    from contract_tests.report import Report
    from contract_tests.target import Target

# The entry point loads this module in every pytest run of every project that installed the package,
# with or without the [contract] extra: suite modules (hypothesis, jsonschema) are imported only when a
# fixture is used, so a plain `pip install fake-askelephant` never breaks someone else's pytest.

TARGET_URL_ENV = "ASKELEPHANT_TARGET_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("askelephant", "AskElephant contract suites")
    group.addoption(
        "--askelephant-target-url",
        default=os.environ.get(TARGET_URL_ENV),
        help=f"base URL of the API under test (default ${TARGET_URL_ENV}, else an in-process emulator)",
    )
    group.addoption(
        "--askelephant-mode",
        choices=["auto", "emulator", "real"],
        default="auto",
        help="auto-detect the emulator via /__admin/health, or force a mode",
    )


@pytest.fixture(scope="session")
def askelephant_loop() -> Iterator[LoopThread]:
    """The event-loop thread the suites' HTTP clients and sinks run on."""
    from contract_tests.http import LoopThread

    with LoopThread() as loop:
        yield loop


@pytest.fixture(scope="session")
def fake_askelephant_server() -> Iterator[str]:
    """Start the emulator in-process on 127.0.0.1:0, frozen clock, seed 1; yield its ``/api`` base URL.

    The only place the contract package touches ``fake_askelephant``, and only to start it.
    """
    from contract_tests.inprocess import ThreadedServer

    try:
        from fake_askelephant.app import create_app
        from fake_askelephant.config import Settings
    except ImportError as exc:
        pytest.skip(f"fake_askelephant is not installed here ({exc}); pass --askelephant-target-url")
    server = ThreadedServer(create_app(Settings(seed=1, time_scale=0.0))).start()
    try:
        yield server.origin + "/api"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def askelephant_target(request: pytest.FixtureRequest, askelephant_loop: LoopThread) -> Iterator[Target]:
    """The API under test as a :class:`~contract_tests.target.Target`."""
    from contract_tests.target import Target

    url = request.config.getoption("--askelephant-target-url")
    if not url:
        url = request.getfixturevalue("fake_askelephant_server")
    target = Target.open(url, mode=request.config.getoption("--askelephant-mode"), loop=askelephant_loop)
    try:
        yield target
    finally:
        target.close()


@pytest.fixture
def askelephant_api_contract(askelephant_target: Target) -> Callable[..., Report]:
    """``run(names=None, suites=None, budget=None) -> Report`` over the registered API checks."""

    from contract_tests.checks import Budget, run_checks, select_checks

    def run(names: list[str] | None = None, suites: list[str] | None = None, budget: Budget | None = None) -> Report:
        return run_checks(askelephant_target, select_checks(names, suites), budget or Budget.from_env())

    return run


@dataclass(frozen=True)
class ReceiverContract:
    """The receiver kit: ``run`` from sync tests, ``await arun`` from async ones (the receiver's loop)."""

    loop: LoopThread

    def run(self, url: str, secret: str, probe_url: str | None = None, only: list[str] | None = None) -> Report:
        return self.loop.run(self.arun(url, secret, probe_url, only))

    async def arun(self, url: str, secret: str, probe_url: str | None = None, only: list[str] | None = None) -> Report:
        from contract_tests.receiver import ReceiverTarget, run_receiver_contract

        return await run_receiver_contract(ReceiverTarget(url, secret, probe_url), only=only)


@pytest.fixture
def webhook_receiver_contract(askelephant_loop: LoopThread) -> ReceiverContract:
    """The receiver kit, bound to the suites' loop thread."""
    return ReceiverContract(askelephant_loop)
