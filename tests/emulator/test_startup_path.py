"""What `serve` loads before it answers: heavy modules that no first request needs stay off (issue #10)."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from fake_askelephant.cli import main

ROOT = Path(__file__).resolve().parents[2]
# Each was on the start path: faker (sample data, ~0.04 s), the scenario recorder (pydantic scenario models and
# the pydantic plugin scan they trigger, ~0.07 s), yaml (~0.015 s), mutagen (--media-fetch only).
OFF_THE_START_PATH = ("faker", "fake_askelephant.scenarios.session_recorder", "yaml", "mutagen")


@pytest.mark.slow
def test_building_the_default_app_loads_none_of_the_heavy_optional_modules() -> None:
    probe = (
        "import sys; from fake_askelephant.app import create_app; from fake_askelephant.config import Settings; "
        "app = create_app(Settings(seed=1, time_scale=0.0)); "
        f"print(sorted(set({OFF_THE_START_PATH!r}) & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr


def test_serve_turns_the_collector_back_on_when_start_up_fails(tmp_path: Path) -> None:
    """`serve` pauses the garbage collector while its modules load; an error on the way must not leave it off."""
    with pytest.raises(SystemExit):
        main(["serve", "--fixtures", str(tmp_path / "missing.yaml")])
    assert gc.isenabled()
