"""The receiver kit passes a correct receiver and fails each flawed one on the check that names the flaw."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer

from contract_tests.receiver import RECEIVER_CHECKS, ReceiverTarget, run_receiver_contract
from contract_tests.report import Report
from contract_tests.signing import generate_secret
from tests.contract.receivers import HOOK_PATH, NAIVE, PROBE_PATH, Flaws, build_receiver

ALL = {c.name for c in RECEIVER_CHECKS}
REJECTIONS = {
    "tampered_body_rejected",
    "wrong_secret_rejected",
    "signature_of_other_message_rejected",
    "stale_timestamp_rejected",
    "future_timestamp_rejected",
    "missing_headers_rejected",
    "malformed_headers_rejected",
}


async def _run(
    aiohttp_server, flaws: Flaws, *, probe: bool = True, deadline: float = 15.0, only: list[str] | None = None
) -> Report:
    secret = generate_secret()
    app, _ = build_receiver(secret, flaws)
    server: TestServer = await aiohttp_server(app)
    url = str(server.make_url(HOOK_PATH))
    probe_url = str(server.make_url(PROBE_PATH)) if probe else None
    return await run_receiver_contract(ReceiverTarget(url, secret, probe_url, deadline), only=only)


def _failed(report: Report) -> set[str]:
    return set(report.failed_names())


async def test_correct_receiver_passes_every_check(aiohttp_server) -> None:
    report = await _run(aiohttp_server, Flaws())
    assert report.ok, report.to_text()
    assert {r.name for r in report.results if r.outcome == "passed"} == ALL


async def test_without_probe_the_once_only_parts_are_not_claimed(aiohttp_server) -> None:
    report = await _run(aiohttp_server, Flaws(dedupe=False), probe=False)
    # Without a probe a missing dedupe is invisible: the kit must not pretend to have checked it.
    assert report.ok, report.to_text()
    duplicate = report.result("duplicate_accepted_and_processed_once")
    assert duplicate.outcome == "skipped", report.to_text()
    assert "--probe-url" in duplicate.message and "processed exactly once" in duplicate.message
    # Checks whose point is the status still pass, and say which part they could not see.
    signed = report.result("signed_event_accepted")
    assert signed.outcome == "passed" and "not checked without a probe" in signed.message


async def test_double_processing_receiver_fails_with_a_probe_and_is_never_passed_without(aiohttp_server) -> None:
    with_probe = await _run(aiohttp_server, Flaws(dedupe=False), only=["duplicate_accepted_and_processed_once"])
    without = await _run(
        aiohttp_server, Flaws(dedupe=False), probe=False, only=["duplicate_accepted_and_processed_once"]
    )

    assert with_probe.result("duplicate_accepted_and_processed_once").outcome == "failed", with_probe.to_text()
    assert without.result("duplicate_accepted_and_processed_once").outcome == "skipped", without.to_text()
    assert without.counts()["passed"] == 0


async def test_without_probe_a_crashing_receiver_still_fails_the_probe_check(aiohttp_server) -> None:
    # The observable part runs even when the processing count cannot be seen: a receiver that never answers
    # 2xx fails rather than being skipped.
    report = await _run(
        aiohttp_server, Flaws(hang=True), probe=False, deadline=0.5, only=["duplicate_accepted_and_processed_once"]
    )
    assert report.result("duplicate_accepted_and_processed_once").outcome == "failed", report.to_text()


async def test_naive_receiver_fails_rejections_and_dedupe(aiohttp_server) -> None:
    report = await _run(aiohttp_server, NAIVE)
    assert not report.ok
    assert _failed(report) == REJECTIONS | {"duplicate_accepted_and_processed_once"}, report.to_text()
    assert "processed 2 time(s)" in report.result("duplicate_accepted_and_processed_once").message


async def test_receiver_without_dedupe_fails_only_the_duplicate_check(aiohttp_server) -> None:
    report = await _run(aiohttp_server, Flaws(dedupe=False))
    assert _failed(report) == {"duplicate_accepted_and_processed_once"}, report.to_text()


async def test_receiver_verifying_reserialised_json_fails_raw_body_check(aiohttp_server) -> None:
    report = await _run(aiohttp_server, Flaws(raw_body=False))
    assert "raw_body_verified" in _failed(report), report.to_text()


async def test_receiver_crashing_on_malformed_headers_fails_that_check(aiohttp_server) -> None:
    report = await _run(aiohttp_server, Flaws(catch_value_error=False), only=["malformed_headers_rejected"])
    result = report.result("malformed_headers_rejected")
    assert result.outcome == "failed" and "HTTP 500" in result.message, report.to_text()


async def test_receiver_checking_only_the_first_signature_fails_rotation(aiohttp_server) -> None:
    report = await _run(aiohttp_server, Flaws(only_first_signature=True))
    assert _failed(report) == {"rotated_secret_accepted", "unknown_signature_versions_skipped"}, report.to_text()


async def test_receiver_that_never_answers_fails_on_the_deadline(aiohttp_server) -> None:
    # The deadline is shrunk from 15 s to 0.2 s; the receiver waits on an event nobody sets.
    report = await _run(aiohttp_server, Flaws(hang=True), deadline=0.2, only=["signed_event_accepted"])
    result = report.result("signed_event_accepted")
    assert result.outcome == "failed" and "timed out" in result.message, report.to_text()


async def test_unreachable_receiver_is_reported_not_raised(unused_tcp_port: int) -> None:
    target = ReceiverTarget(f"http://127.0.0.1:{unused_tcp_port}/hooks", generate_secret())
    report = await run_receiver_contract(target, only=["signed_event_accepted"])
    assert report.result("signed_event_accepted").outcome == "failed"
    assert "no answer" in report.result("signed_event_accepted").message


async def test_unknown_check_name_is_an_error() -> None:
    with pytest.raises(KeyError, match="no_such_check"):
        await run_receiver_contract(ReceiverTarget("http://127.0.0.1:9/x", generate_secret()), only=["no_such_check"])
