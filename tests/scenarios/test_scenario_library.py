"""Every built-in scenario passes, and a second run is byte-identical (the determinism proof)."""

from __future__ import annotations

import difflib

import pytest

from fake_askelephant.scenarios import library, load_source, run_scenario, scenario_text

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
