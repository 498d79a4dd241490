"""The runner's semantics: failures and diffs, waiting on the virtual clock, groups, remote targets."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from fake_askelephant.app import create_app
from fake_askelephant.core.timefmt import format_ms
from fake_askelephant.scenarios import load_text, run_scenario
from fake_askelephant.scenarios.checks import expect_mismatches
from fake_askelephant.scenarios.model import ExpectSpec
from fake_askelephant.scenarios.report import scenario_text
from fake_askelephant.scenarios.results import FAILED, PASSED, SKIPPED, ScenarioResult
from fake_askelephant.scenarios.target import Exchange
from tests.conftest import T0, frozen_settings

CREATE = """
  - name: submit
    request:
      method: POST
      path: /api/v2/engagements
      body: {type: CALL, title: Demo call, source_system: d, external_id: ext-1, media_url: "https://r.example.com/1.mp3"}
    expect: {status: 201}
"""


async def run(text: str, **kwargs: Any) -> ScenarioResult:
    return await run_scenario(load_text(text, "t.yaml", default_name="t"), **kwargs)


def outcomes(result: ScenarioResult) -> list[str]:
    return [s.outcome for s in result.steps]


async def test_a_failed_expectation_reports_every_mismatch_a_diff_and_skips_the_rest() -> None:
    result = await run(
        "steps:"
        + CREATE
        + """
  - expect:
      status: 200
      body: {title: Demo call, processing_status: COMPLETED, owner_user_id: usr_other}
  - advance: 1m
"""
    )
    assert not result.ok and outcomes(result) == [PASSED, FAILED, SKIPPED]
    failed = result.steps[1]
    status, *fields = [str(m) for m in failed.mismatches]
    # The status mismatch shows the response it judged: the created engagement, compact JSON cut at 160 characters.
    assert status.startswith('status: expected 200, got 201: {"object":"engagement","id":"ngmt_')
    assert status.endswith("…") and len(status.partition("got 201: ")[2]) == 158
    assert fields == [
        '$.processing_status: expected "COMPLETED", got "PENDING"',
        '$.owner_user_id: expected "usr_other", got "usr_local"',
    ]
    assert '-  "processing_status": "COMPLETED",' in failed.details
    assert '+  "processing_status": "PENDING",' in failed.details
    assert failed.line == 9
    text = scenario_text(result)
    assert text.startswith("FAIL t ") and "(t.yaml:9)" in text and "1 passed, 1 failed, 1 skipped" in text


async def test_expect_webhook_stops_the_clock_at_the_arrival_instant() -> None:
    result = await run(
        "endpoints: {hooks: {event_types: [v1.engagement.transcript_timeline.completed]}}\nsteps:"
        + CREATE
        + """
  - name: hook
    expect_webhook: {type: v1.engagement.transcript_timeline.completed, within: 10m, verified: true}
  - name: now
    request: {path: /__admin/clock}
    expect:
      body: {now: "${hook.first.virtual_time}"}
"""
    )
    assert result.ok, scenario_text(result)
    hook = result.steps[1]
    arrived = next(e for e in result.events if e["type"].endswith("transcript_timeline.completed"))["created_at"]
    assert format_ms(hook.ended_ms or 0) == arrived
    assert T0 + 20_000 <= (hook.ended_ms or 0) <= T0 + 120_000  # pipeline.md §2: 20–120 s after create


async def test_expect_webhook_count_zero_waits_the_full_window_and_fails_on_arrival() -> None:
    result = await run(
        "endpoints: {hooks: {}}\nsteps:"
        + CREATE
        + "  - expect_webhook: {type: v1.engagement.updated, within: 1h, count: 0}\n"
    )
    assert outcomes(result) == [PASSED, FAILED]
    step = result.steps[1]
    assert str(step.mismatches[0]).startswith("count: expected 0 v1.engagement.updated(s), got ")
    assert step.ended_ms == T0 + 3_600_000  # waited the whole hour before judging
    assert any("v1.engagement.created" in d for d in step.details)  # what the endpoint got instead


async def test_expect_webhook_times_out_on_the_virtual_clock() -> None:
    result = await run(
        "endpoints: {hooks: {event_types: [v1.engagement.transcript_timeline.completed]}}\nsteps:"
        + CREATE
        + "  - expect_webhook: {within: 10s}\n"
    )
    assert outcomes(result) == [PASSED, FAILED]
    assert str(result.steps[1].mismatches[0]) == "count: expected at least one matching request, got none within 10s"
    assert result.steps[1].ended_ms == T0 + 10_000


async def test_wait_for_gives_up_at_the_timeout_and_lists_its_polls() -> None:
    result = await run(
        "steps:"
        + CREATE
        + """
  - wait_for:
      request: {path: "/api/v2/engagements/${submit.body.id}"}
      until: {body: {processing_status: COMPLETED}}
      every: 1s
      backoff: 2
      timeout: 10s
"""
    )
    assert outcomes(result) == [PASSED, FAILED]
    step = result.steps[1]
    polls = [d for d in step.details if d.startswith("poll")]
    assert [p.split(":")[0] for p in polls] == ["poll 1 at +0s", "poll 2 at +1s", "poll 3 at +3s", "poll 4 at +7s"]
    assert str(step.mismatches[0]) == "wait_for: still not true after 10s"
    assert any(str(m).startswith('$.processing_status: expected "COMPLETED"') for m in step.mismatches)


async def test_a_concurrent_group_reports_status_counts_and_differing_values() -> None:
    result = await run(
        """steps:
  - name: two
    concurrent:
      requests:
        - method: POST
          path: /api/v2/engagements
          body: {type: CALL, title: A, source_system: d, external_id: a, media_url: "https://r.example.com/a.mp3"}
        - method: POST
          path: /api/v2/engagements
          body: {type: CALL, title: B, source_system: d, external_id: b, media_url: "https://r.example.com/b.mp3"}
    expect:
      statuses: {201: 1, 200: 1}
      same: [$.id]
      body: {title: A}
"""
    )
    step = result.steps[0]
    *first, same = [str(m) for m in step.mismatches]
    assert first == ['responses[1] $.title: expected "A", got "B"', "statuses: expected 1×201, 1×200, got 2×201"]
    ids = re.fullmatch(r'same \$\.id: differs across responses: \[\["(ngmt_\w+)"\],\["(ngmt_\w+)"\]\]', same)
    assert ids is not None and ids[1] != ids[2], same


async def test_an_unresolvable_reference_fails_its_step_with_the_reason() -> None:
    result = await run("steps:" + CREATE + "  - request: {path: '/api/v2/engagements/${submit.body.nope}'}\n")
    assert outcomes(result) == [PASSED, FAILED]
    assert "submit.body has no 'nope'" in str(result.steps[1].mismatches[0])


async def test_setup_refused_by_the_emulator_names_the_scenario_line() -> None:
    result = await run("pipeline_rules:\n  - {match: {external_id: x}, media: sometimes}\nsteps:\n  - advance: 1\n")
    assert result.error is not None
    assert result.error.startswith("setup: pipeline_rules[0] (line 2): POST /__admin/pipeline-rules failed: 422")
    assert outcomes(result) == [SKIPPED]


@pytest.fixture
async def served() -> AsyncIterator[TestServer]:
    server = TestServer(create_app(frozen_settings(seed=99)), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


async def test_against_a_running_emulator_it_resets_first_and_notes_the_seed(served: TestServer) -> None:
    base = str(served.make_url("")).rstrip("/")
    first = await run("seed: 5\nsteps:" + CREATE, target_url=base)
    assert first.ok, scenario_text(first)
    assert first.target == base
    assert first.notes == [
        "target seed 99 ≠ scenario seed 5: ids and content differ from an in-process run "
        "(expectations that use references still hold)"
    ]
    second = await run("seed: 5\nsteps:" + CREATE, target_url=base)
    assert second.ok, "the reset made the same external_id new again (201, not 200)"


async def test_a_running_emulator_with_another_time_scale_is_refused() -> None:
    server = TestServer(create_app(frozen_settings(time_scale=60.0)), host="127.0.0.1")
    await server.start_server()
    try:
        result = await run("steps:\n  - advance: 1\n", target_url=str(server.make_url("")).rstrip("/"))
    finally:
        await server.close()
    assert result.error == (
        "setup: the target runs at time scale 60.0, the scenario needs 0: start it with --time-scale 0"
    )


async def test_scenario_settings_need_the_in_process_emulator(served: TestServer) -> None:
    text = """settings: {strict: true}
steps:
  - request: {path: /api/v2/engagements, headers: {Authorization: "Bearer ${keys.default}"}}
    expect: {status: 401}
"""
    in_process = await run(text)
    assert in_process.ok, scenario_text(in_process)
    remote = await run(text, target_url=str(served.make_url("")).rstrip("/"))
    assert remote.error is not None and "sets emulator flags (strict)" in remote.error


async def test_a_url_endpoint_is_observed_through_the_delivery_log(aiohttp_server: Callable[..., Any]) -> None:
    answers = iter([500, 204])
    received: list[bytes] = []

    async def receiver(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(status=next(answers, 204))

    app = web.Application()
    app.router.add_post("/hook", receiver)
    server = await aiohttp_server(app)
    result = await run(
        f"endpoints:\n  mine: {{url: '{server.make_url('/hook')}', event_types: [v1.engagement.created]}}\nsteps:"
        + CREATE
        + """
  - name: delivered
    expect_webhook:
      type: v1.engagement.created
      within: 1m
      count: 2
      statuses: [500, 204]
      schedule: [0, 5]
      same_svix_id: true
      body: {data: {object: {id: "${submit.body.id}"}}}
"""
    )
    assert result.ok, scenario_text(result)
    assert len(received) == 2 and received[0] == received[1]


def test_no_response_expects_a_dropped_connection_and_nothing_else() -> None:
    dropped = Exchange("POST", "/api/v2/engagements", {}, b"{}", status=None, error="ServerDisconnectedError")
    answered = Exchange("POST", "/api/v2/engagements", {}, b"{}", status=201, body=b'{"id":"ngmt_1"}')
    wants_silence = ExpectSpec.model_validate({"no_response": True})
    wants_201 = ExpectSpec.model_validate({"status": 201})
    assert expect_mismatches(wants_silence, [dropped]) == []
    assert [str(m) for _, m in expect_mismatches(wants_silence, [answered])] == [
        'status: expected no HTTP response, got 201: {"id":"ngmt_1"}'
    ]
    assert [str(m) for _, m in expect_mismatches(wants_201, [dropped])] == [
        "status: no HTTP response: ServerDisconnectedError"
    ]
