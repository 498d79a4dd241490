"""Every built-in scenario passes, and a second run is byte-identical (the determinism proof)."""

from __future__ import annotations

import difflib

import pytest
from aiohttp.test_utils import TestServer

from fake_askelephant.app import create_app
from fake_askelephant.scenarios import library, load_source, run_scenario, scenario_text
from tests.conftest import frozen_settings

BUILTINS = [entry.name for entry in library()]


def test_the_library_has_the_promised_stories() -> None:
    assert set(BUILTINS) >= {
        "happy-path",
        "duplicate-submit",
        "concurrent-duplicates",
        "replay-different-fields",
        "late-insights",
        "receiver-down",
        "transcription-failed",
        "no-insights",
        "bad-urls",
        "private-and-scopes",
        "workspace-isolation",
        "rate-limited-burst",
        "wavv-lifecycle",
    }


@pytest.mark.parametrize("name", BUILTINS)
async def test_builtin_passes_and_replays_byte_identical(name: str) -> None:
    loaded = load_source(name)
    first = await run_scenario(loaded)
    assert first.ok, scenario_text(first, verbose=True)
    second = await run_scenario(loaded)
    assert second.ok, scenario_text(second, verbose=True)
    a, b = first.transcript_bytes(), second.transcript_bytes()
    diff = "\n".join(difflib.unified_diff(a.decode().splitlines(), b.decode().splitlines(), lineterm="", n=0))
    assert a == b, f"second run differs:\n{diff[:4000]}"
    # The transcript holds what determinism is about: responses and webhook bodies, not just statuses.
    kinds = {line.split(b'"kind":"', 1)[1].split(b'"', 1)[0] for line in a.splitlines()}
    assert {b"http", b"event"} <= kinds


async def test_the_library_also_passes_against_a_running_emulator() -> None:
    """--target-url: another seed, a clock already past each start; expectations written with references hold."""
    server = TestServer(create_app(frozen_settings(seed=2)), host="127.0.0.1")
    await server.start_server()
    try:
        base = str(server.make_url("")).rstrip("/")
        for name in BUILTINS:
            result = await run_scenario(load_source(name), target_url=base)
            assert result.ok, scenario_text(result, verbose=True)
    finally:
        await server.close()
