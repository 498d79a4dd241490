"""Every API check passes against a fresh in-process emulator (frozen clock, seed 1)."""

from __future__ import annotations

import pytest

from contract_tests.checks import run_check, select_checks
from contract_tests.target import Target
from tests.contract.conftest import TEST_BUDGET

CHECKS = select_checks()


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_check_passes_against_the_emulator(check, emulator_target: Target) -> None:
    result = run_check(check, emulator_target, TEST_BUDGET)
    if result.outcome == "skipped" and "no /__admin/webhook-endpoints" in result.message:
        pytest.skip("the emulator's webhook dispatcher has not landed on this branch yet")
    assert result.outcome == "passed", result.message


def test_every_suite_has_checks() -> None:
    assert {c.suite for c in CHECKS} == {
        "create",
        "reads",
        "lists",
        "pipeline",
        "concurrency",
        "stateful",
        "fuzz",
        "webhooks",
    }
