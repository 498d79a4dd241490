"""What `serve` loads before it answers: heavy modules that no first request needs stay off (issue #10)."""

from __future__ import annotations

import gc
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web

from fake_askelephant.api import admin
from fake_askelephant.api.admin import health
from fake_askelephant.cli import main

ROOT = Path(__file__).resolve().parents[2]
# Each was on the start path: faker (sample data, ~0.04 s), the scenario recorder (pydantic scenario models and
# the pydantic plugin scan they trigger, ~0.07 s), yaml (~0.015 s), mutagen (--media-fetch only); the control
# plane's route modules (load on their first request, issue 22 §5), pydantic and every wire model (load with the
# first request that reads a body), `health`'s client.
LAZY_ADMIN = tuple(f"fake_askelephant.api.admin.{name}" for name in admin.LAZY_ROUTES)
OFF_THE_START_PATH = (
    "faker",
    "fake_askelephant.scenarios.session_recorder",
    "yaml",
    "mutagen",
    *LAZY_ADMIN,
    "pydantic",
    "pydantic_core",
    "fake_askelephant.api.schemas",
    "fake_askelephant.api.admin.bodies",
    "fake_askelephant.healthcheck",
)


@pytest.mark.slow
def test_building_the_default_app_loads_none_of_the_heavy_optional_modules() -> None:
    probe = (
        "import sys; import fake_askelephant.cli, fake_askelephant.serving, fake_askelephant.listen; "
        "from fake_askelephant.app import create_app; from fake_askelephant.config import Settings; "
        "app = create_app(Settings(seed=1, time_scale=0.0)); "
        f"print(sorted(set({OFF_THE_START_PATH!r}) & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr


def test_the_lazy_route_list_is_each_modules_own_table() -> None:
    """LAZY_ROUTES registers what the modules declare, in their order: the router is the one they would build."""
    for name, listed in admin.LAZY_ROUTES.items():
        module = importlib.import_module(f"fake_askelephant.api.admin.{name}")
        defs = [r for r in module.routes if isinstance(r, web.RouteDef)]
        assert len(defs) == len(module.routes), name
        assert [(r.method, r.path, r.handler.__name__) for r in defs] == list(listed), name
    assert [(r.method, r.path) for r in health.routes if isinstance(r, web.RouteDef)] == [("GET", "/__admin/health")]


FIRST_REQUESTS = """
import asyncio, json, sys
from aiohttp.test_utils import TestClient, TestServer
from fake_askelephant.app import create_app
from fake_askelephant.config import Settings
from fake_askelephant.core.store import DEFAULT_API_KEY

def loaded():
    admin = sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("fake_askelephant.api.admin."))
    return {"admin": admin, "pydantic": "pydantic" in sys.modules}

async def main():
    async with TestClient(TestServer(create_app(Settings(seed=1, time_scale=0.0)))) as client:
        seen = {"built": loaded(), "health": (await client.get("/__admin/health")).status}
        clock = await client.get("/__admin/clock")
        seen.update(clock=clock.status, clock_body=await clock.json(), after_clock=loaded())
        auth = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
        bad = await client.post("/api/v2/engagements", json={"type": "CALL"}, headers=auth)
        seen.update(bad=bad.status, bad_body=await bad.json(), after_bad=loaded())
        print(json.dumps(seen))

asyncio.run(main())
"""


@pytest.mark.slow
def test_lazily_loaded_modules_load_on_the_first_request_that_needs_them_and_answer_it() -> None:
    result = subprocess.run(
        [sys.executable, "-c", FIRST_REQUESTS], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert "health" in seen["built"]["admin"] and "control" not in seen["built"]["admin"]
    assert seen["built"]["pydantic"] is False
    assert seen["health"] == 200
    assert seen["clock"] == 200 and "now" in seen["clock_body"]
    assert "control" in seen["after_clock"]["admin"]  # loaded now, by the clock request
    assert seen["after_clock"]["pydantic"] is False  # an admin read needs no wire model
    # The first body read loads pydantic and answers as ever: every missing field, in one 422.
    assert seen["bad"] == 422 and seen["after_bad"]["pydantic"] is True
    fields = {e["field"] for e in seen["bad_body"]["errors"]}
    assert {"title", "source_system", "external_id"} <= fields, seen["bad_body"]


def test_serve_turns_the_collector_back_on_when_start_up_fails(tmp_path: Path) -> None:
    """`serve` pauses the garbage collector while its modules load; an error on the way must not leave it off."""
    with pytest.raises(SystemExit):
        main(["serve", "--fixtures", str(tmp_path / "missing.yaml")])
    assert gc.isenabled()
