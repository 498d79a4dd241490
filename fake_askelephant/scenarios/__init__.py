"""Scenarios: the YAML format, the runner, reports and record-to-scenario (docs/scenarios.md).

From pytest::

    @pytest.mark.parametrize("path", sorted(Path("scenarios").glob("*.yaml")), ids=lambda p: p.stem)
    async def test_scenario(path):
        await assert_scenario_passes(path)
"""

from __future__ import annotations

from pathlib import Path

from .loader import LoadedScenario, ScenarioError, library, load_file, load_source, load_text
from .report import scenario_text
from .results import ScenarioResult
from .runner import run_scenario


async def assert_scenario_passes(
    source: str | Path | LoadedScenario, *, target_url: str | None = None
) -> ScenarioResult:
    """Run a scenario file, built-in name or loaded scenario; AssertionError with the full report if it fails."""
    loaded = source if isinstance(source, LoadedScenario) else load_source(str(source))
    result = await run_scenario(loaded, target_url=target_url)
    if not result.ok:
        raise AssertionError("\n" + scenario_text(result, verbose=True))
    return result


__all__ = [
    "LoadedScenario",
    "ScenarioError",
    "ScenarioResult",
    "assert_scenario_passes",
    "library",
    "load_file",
    "load_source",
    "load_text",
    "run_scenario",
    "scenario_text",
]
