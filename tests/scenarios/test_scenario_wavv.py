"""The WAVV scenario's request bodies are what the reference client's WAVV mapping produces."""

from __future__ import annotations

from typing import Any

import pytest

from fake_askelephant.scenarios import load_source
from reference_client import TRANSCRIPT_COMPLETED, ApiAction, WavvCall, WavvMoment, api_action_for, engagement_from_wavv

SCENARIO = load_source("wavv-lifecycle").scenario


def posted_bodies() -> list[Any]:
    return [
        s.request.body
        for s in SCENARIO.steps
        if s.request is not None and s.request.method == "POST" and s.request.path == "/api/v2/engagements"
    ]


@pytest.mark.parametrize(("call", "body"), [("answered", "answered_body"), ("failed", "failed_body")])
def test_each_body_is_the_reference_mapping_of_its_wavv_call(call: str, body: str) -> None:
    mapped = engagement_from_wavv(WavvCall.model_validate(SCENARIO.vars["wavv_calls"][call])).to_wire()
    assert SCENARIO.vars[body] == mapped


def test_the_scenario_posts_exactly_those_bodies() -> None:
    sent = posted_bodies()
    assert sent == [
        SCENARIO.vars["answered_body"],
        SCENARIO.vars["failed_body"],
        SCENARIO.vars["answered_body"],
        SCENARIO.vars["failed_body"],
    ]


def test_steps_named_after_wavv_moments_do_what_the_reference_lifecycle_says() -> None:
    named = {s.name: s for s in SCENARIO.steps if s.name in {m.value for m in WavvMoment}}
    assert set(named) >= {"call_answered", "recording_available", "call_resynced", "transcript_webhook"}
    for name, step in named.items():
        action = api_action_for(name).action
        creates = step.request is not None and (step.request.method, step.request.path) == (
            "POST",
            "/api/v2/engagements",
        )
        assert creates == (action is ApiAction.CREATE_ENGAGEMENT), name
        if action is ApiAction.WAIT_FOR_INSIGHTS:
            assert step.expect_webhook is not None and step.expect_webhook.type == TRANSCRIPT_COMPLETED
