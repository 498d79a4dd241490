"""Scenarios: the YAML format, the runner, reports and record-to-scenario (docs/scenarios.md).

From pytest (docs/scenarios.md, "From pytest")::

    @pytest.mark.parametrize("path", sorted((Path(__file__).parent / "scenarios").glob("*.yaml")), ids=lambda p: p.stem)
    def test_scenario(path):
        asyncio.run(assert_scenario_passes(path))

The names below load on first use: the emulator app imports the session recorder from this package, and must
stay importable without the runner's assertion libraries (tests/contract/test_plugin_import_light.py).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .loader import LoadedScenario, ScenarioError, library, load_file, load_source, load_text
    from .report import scenario_text
    from .results import ScenarioResult
    from .runner import run_scenario

_EXPORTS = {
    "LoadedScenario": "loader",
    "ScenarioError": "loader",
    "library": "loader",
    "load_file": "loader",
    "load_source": "loader",
    "load_text": "loader",
    "scenario_text": "report",
    "ScenarioResult": "results",
    "run_scenario": "runner",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


async def assert_scenario_passes(
    source: str | Path | LoadedScenario, *, target_url: str | None = None
) -> ScenarioResult:
    """Run a scenario file, built-in name or loaded scenario; AssertionError with the full report if it fails."""
    from .loader import LoadedScenario, load_source
    from .report import scenario_text
    from .runner import run_scenario

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
