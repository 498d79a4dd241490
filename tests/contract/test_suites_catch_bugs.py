"""Proof the suites can fail: against a proxy that breaks one behaviour, the checks guarding it fail."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from contract_tests.checks import run_checks, select_checks
from contract_tests.target import Target
from tests.contract.broken_proxy import MODES
from tests.contract.conftest import BROKEN_BUDGET

# mode -> checks that must fail against it.
CAUGHT_BY = {
    "replay_201": ["valid_create_then_replay", "parallel_creates_have_one_winner"],
    "accept_javascript": ["unsafe_external_url_rejected"],
    "list_skips_item": ["list_walk_returns_each_once", "engagement_state_machine"],
    "race_duplicates": ["parallel_creates_have_one_winner", "valid_create_then_replay"],
    "errors_as_plain_json": ["invalid_create_rejected", "invalid_list_query_rejected", "credentials_required"],
    "status_regresses": ["pipeline_progresses_monotonically"],
    "garbage_is_500": ["no_5xx_for_any_create_body"],
    "reserialised_webhooks": ["webhook_deliveries"],
    "cursor_forgets_query": ["cursor_carries_its_query"],
}


def test_every_proxy_mode_is_covered() -> None:
    assert set(CAUGHT_BY) == set(MODES)


@pytest.mark.parametrize("mode", sorted(CAUGHT_BY))
def test_suite_fails_against_broken_emulator(mode: str, broken_target: Callable[[str], Target]) -> None:
    target = broken_target(mode)
    report = run_checks(target, select_checks(CAUGHT_BY[mode]), BROKEN_BUDGET)
    outcomes = {r.name: r.outcome for r in report.results}
    assert outcomes == dict.fromkeys(CAUGHT_BY[mode], "failed"), f"{MODES[mode]} went unnoticed:\n{report.to_text()}"


def test_proxy_in_passthrough_is_not_itself_a_bug(broken_target: Callable[[str], Target]) -> None:
    # reserialised_webhooks only touches webhook deliveries, so every other check must still pass through it.
    target = broken_target("reserialised_webhooks")
    names = ["valid_create_then_replay", "list_walk_returns_each_once", "parallel_creates_have_one_winner"]
    report = run_checks(target, select_checks(names), BROKEN_BUDGET)
    assert report.ok, report.to_text()


def test_every_api_check_passes_while_the_clock_moves_between_pages(broken_target: Callable[[str], Target]) -> None:
    """Against a running `serve`, the pipeline bumps updated_at while a check pages; a record may then jump the
    cursor (api.md §8). default_page_size_is_25 walked without letting the clock settle first and failed
    ("trailing empty page") against `serve --time-scale 60`."""
    target = broken_target("live_clock")
    report = run_checks(target, select_checks(), BROKEN_BUDGET)
    assert report.ok, report.to_text()
