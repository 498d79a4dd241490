"""What `serve` loads before it answers: heavy modules that no first request needs stay off (issue #10)."""

from __future__ import annotations

import asyncio
import gc
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import subprocess
import sys
import threading
import types
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from fake_askelephant.api import admin
from fake_askelephant.api.admin import health
from fake_askelephant.app import create_app
from fake_askelephant.cli import main
from fake_askelephant.config import Settings

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


class _HeldImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A route module whose import takes as long as the test says: `started` once it runs, then it waits for
    `proceed` (at most 3 s), as a module that imports pydantic and its wire models takes 70–100 ms of CPU."""

    NAME = "fake_askelephant.api.admin._held_probe"

    def __init__(self, order: list[str]) -> None:
        self.started, self.proceed, self.order = threading.Event(), threading.Event(), order

    def find_spec(self, name: str, path: object, target: object = None) -> importlib.machinery.ModuleSpec | None:
        return importlib.util.spec_from_loader(name, self) if name == self.NAME else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        self.started.set()
        self.proceed.wait(3)
        self.order.append("import done")

        async def probe(request: web.Request) -> web.Response:
            return web.json_response({"probe": True})

        module.probe = probe  # type: ignore[attr-defined]


async def test_a_route_modules_first_import_does_not_hold_other_requests(
    aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lazily loaded modules import on a worker thread: imported on the event loop, the fixture route's module
    held health for 70–105 ms (bench_content --loads: health max 85–160 ms during a fixture load)."""
    order: list[str] = []
    held = _HeldImport(order)
    monkeypatch.setattr(sys, "meta_path", [held, *sys.meta_path])
    monkeypatch.delitem(sys.modules, held.NAME, raising=False)
    app = create_app(Settings(seed=1, time_scale=0.0))
    app.router.add_get("/__admin/_held", admin.on_first_use("_held_probe", "probe"))
    client = await aiohttp_client(app)

    first = asyncio.create_task(client.get("/__admin/_held"))
    assert await asyncio.to_thread(held.started.wait, 5)
    health_answer = await client.get("/__admin/health")
    order.append(f"health {health_answer.status}")
    held.proceed.set()
    probe = await first

    assert order == ["health 200", "import done"]
    assert probe.status == 200 and await probe.json() == {"probe": True}
    sys.modules.pop(held.NAME, None)
