"""The `fake_askelephant` fixture as a vendor's project gets it: a vendor-style suite in a temporary directory,
run by a pytest subprocess that loads only the plugin the package's `pytest11` entry point names (autoloading
off, nothing installed, no conftest), under pytest-xdist against one shared emulator and against one per worker.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.cli_process import ROOT, base_env, start

pytestmark = pytest.mark.slow  # pytest subprocesses, xdist workers, a `fake-askelephant serve`

PLUGIN = "fake_askelephant.pytest_plugin"
SHARED_KEY = "sk-apik_local.fakeaskelephant"  # the built-in workspace's key: what the negative control uses

# Six tests that would see one another through the data if they shared a workspace: the same external_id, a
# list expected to hold exactly their own engagement, a sink and events expected to carry only their own.
VENDOR_SUITE = '''
import json
import os
from pathlib import Path

import pytest

BODY = {"type": "CALL", "title": "Call with Jane", "source_system": "my-dialer", "external_id": "call-1",
        "media_url": "https://recordings.example.com/call-1.mp3",
        "participants": [{"name": "Jane Doe", "email": "jane@customer.com"}]}


def key(fake_askelephant):
    """The negative control sets VENDOR_SHARED_KEY: every test then uses one workspace."""
    return os.environ.get("VENDOR_SHARED_KEY") or fake_askelephant.api_key


def submit(fake_askelephant):
    answer = fake_askelephant.request("POST", "/v2/engagements", BODY, {"Authorization": key(fake_askelephant)})
    assert answer.status == 201, (answer.status, answer.body)  # 200 would be another test's call-1
    return answer.body


def mine(fake_askelephant):
    headers = {"Authorization": key(fake_askelephant)}
    answer = fake_askelephant.request("GET", "/v2/engagements?limit=100", None, headers)
    return [e["id"] for e in answer.body["data"]]


@pytest.fixture(autouse=True)
def record(fake_askelephant, worker_id):
    yield
    out = Path(os.environ["VENDOR_RECORD"]) / f"{fake_askelephant.workspace_id}.json"
    out.write_text(json.dumps({"worker": worker_id, "origin": fake_askelephant.origin}))


@pytest.mark.parametrize("n", range(6))
def test_a_call_is_processed_and_notified(fake_askelephant, n):
    sink = fake_askelephant.sink("receiver", ["v1.engagement.created", "v1.engagement.transcript_timeline.completed"])
    created = submit(fake_askelephant)
    assert mine(fake_askelephant) == [created["id"]]
    fake_askelephant.advance(seconds=600)
    done = fake_askelephant.get(f"/v2/engagements/{created['id']}?expand=action_items")
    assert done["processing_status"] == "COMPLETED" and done["action_items"]
    events = sink.events()
    assert [e["type"] for e in events] == ["v1.engagement.created", "v1.engagement.transcript_timeline.completed"]
    assert {e["data"]["object"]["id"] for e in events} == {created["id"]}
    mine_only = {(e["type"].split(".")[1], e["data"]["object"]["id"]) for e in fake_askelephant.events()}
    contacts = fake_askelephant.get("/v2/contacts")["data"]
    assert mine_only == {("engagement", created["id"])} | {("contact", c["id"]) for c in contacts}
    assert len(contacts) == 1
'''

CONTROL_PLANE = '''
import asyncio
import json
from datetime import datetime, timezone

import pytest
from aiohttp import web

from fake_askelephant.testing import ApiError, http

BODY = {"type": "CALL", "title": "Call", "source_system": "my-dialer", "external_id": "call-1",
        "media_url": "https://recordings.example.com/call-1.mp3"}


def test_reset_new_workspace_new_key_and_set_time(fake_askelephant):
    created = fake_askelephant.post("/v2/engagements", BODY)
    fake_askelephant.reset()
    with pytest.raises(ApiError) as gone:
        fake_askelephant.get(f"/v2/engagements/{created['id']}")
    assert gone.value.status == 404 and gone.value.body["status"] == 404
    other = fake_askelephant.new_workspace()
    assert other.workspace_id != fake_askelephant.workspace_id and other.origin == fake_askelephant.origin
    assert other.post("/v2/engagements", BODY)["id"] != created["id"]
    assert fake_askelephant.get("/v2/engagements")["data"] == []
    reader = fake_askelephant.new_key(["engagements:read"])
    refused = fake_askelephant.request("POST", "/v2/engagements", BODY, {"Authorization": reader})
    assert refused.status == 403 and "engagements:write" in json.dumps(refused.body)
    clock = fake_askelephant.set_time(datetime(2031, 5, 13, 9, 30, tzinfo=timezone.utc))
    assert clock["now"].startswith("2031-05-13T09:30:00")


def test_the_clock_is_frozen_until_advanced(fake_askelephant):
    before = fake_askelephant.now()["now"]
    created = fake_askelephant.post("/v2/engagements", {**BODY, "external_id": "call-2"})
    assert fake_askelephant.now()["now"] == before
    assert fake_askelephant.get(f"/v2/engagements/{created['id']}")["processing_status"] == "PENDING"


@pytest.mark.asyncio
async def test_async_with_a_receiver_on_the_tests_own_loop(fake_askelephant):
    """The emulator delivers to this loop's server while the test awaits advance (a blocking call would hold it)."""
    received = []

    async def receive(request):
        received.append(json.loads(await request.read())["type"])
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/webhooks", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        spec = {"url": f"http://127.0.0.1:{port}/webhooks", "workspace_id": fake_askelephant.workspace_id,
                "event_types": ["v1.engagement.created"]}
        registered = await asyncio.to_thread(http, "POST", f"{fake_askelephant.admin_url}/webhook-endpoints", spec)
        assert registered.status == 201, registered.body
        sink = await fake_askelephant.aio.sink("also", ["v1.engagement.created"])
        created = await fake_askelephant.aio.post("/v2/engagements", {**BODY, "external_id": "call-3"})
        await fake_askelephant.aio.advance(60)
        assert received == ["v1.engagement.created"]
        assert [e["data"]["object"]["id"] for e in await fake_askelephant.aio.sink_events(sink)] == [created["id"]]
    finally:
        await runner.cleanup()
'''


def run_pytest(directory: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """pytest as a fresh project runs it, loading only `-p` plugins (what the entry point and the text name)."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", PLUGIN, *args]
    return subprocess.run(
        command,
        cwd=directory,
        env=base_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", **env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_entry_point_names_the_plugin() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["pytest11"]["fake_askelephant"] == PLUGIN


def vendor_project(tmp_path: Path) -> tuple[Path, Path]:
    project, record = tmp_path / "vendor", tmp_path / "record"
    project.mkdir()
    record.mkdir()
    (project / "test_dialer.py").write_text(VENDOR_SUITE)
    return project, record


def test_a_suite_under_xdist_shares_one_emulator_without_cross_talk(tmp_path: Path) -> None:
    served = start(["serve", "--port", "0", "--time-scale", "0", "--seed", "7"], base_env(), tmp_path, "shared")
    try:
        project, record = vendor_project(tmp_path)
        result = run_pytest(
            project, "-p", "xdist.plugin", "-n", "2", "--fake-askelephant-url", served.api, VENDOR_RECORD=str(record)
        )
        assert result.returncode == 0 and "6 passed" in result.stdout, result.stdout + result.stderr
        runs = [json.loads(p.read_text()) for p in record.iterdir()]
        assert len(runs) == 6 and {r["worker"] for r in runs} == {"gw0", "gw1"}
        assert {r["origin"] for r in runs} == {served.base}
        # One emulator: every test's workspace is in its state (emptied by the fixture's reset, keys kept).
        with urllib.request.urlopen(f"{served.base}/__admin/state", timeout=10) as answer:
            state = json.load(answer)
        workspaces = {ws["id"]: ws for ws in state["workspaces"]}
        assert {p.stem for p in record.iterdir()} <= set(workspaces)

        # The negative control: the same suite in one workspace fails on the data it shares.
        for p in record.iterdir():
            p.unlink()
        report = tmp_path / "shared.xml"
        shared = run_pytest(  # the emulator named by the environment this time
            project,
            "-p",
            "xdist.plugin",
            "-n",
            "2",
            f"--junitxml={report}",
            VENDOR_RECORD=str(record),
            VENDOR_SHARED_KEY=SHARED_KEY,
            ASKELEPHANT_EMULATOR_URL=served.base,
        )
        assert shared.returncode == 1 and "6 failed" in shared.stdout, shared.stdout + shared.stderr
        # Five got another test's call-1 replayed; the one that created it saw none of its events where its
        # fixture's workspace was. Read from the JUnit report: the terminal's summary repeats each message in
        # full when `CI` is set and cuts it to the width otherwise, so counting there depends on who runs it.
        failures = [f.get("message", "") for f in ElementTree.parse(report).iter("failure")]  # noqa: S314 (our own run)
        assert len(failures) == 6 and sum("assert 200 == 201" in m for m in failures) == 5, failures
        assert {json.loads(p.read_text())["origin"] for p in record.iterdir()} == {served.base}
    finally:
        served.stop()


def test_without_a_url_each_worker_runs_its_own_emulator(tmp_path: Path) -> None:
    project, record = vendor_project(tmp_path)
    result = run_pytest(project, "-p", "xdist.plugin", "-n", "2", VENDOR_RECORD=str(record))
    assert result.returncode == 0 and "6 passed" in result.stdout, result.stdout + result.stderr
    runs = [json.loads(p.read_text()) for p in record.iterdir()]
    by_worker = {w: {r["origin"] for r in runs if r["worker"] == w} for w in ("gw0", "gw1")}
    assert all(len(origins) == 1 for origins in by_worker.values()), by_worker
    assert by_worker["gw0"] != by_worker["gw1"]


def test_the_control_plane_sync_and_async(tmp_path: Path) -> None:
    (tmp_path / "test_control.py").write_text(CONTROL_PLANE)
    result = run_pytest(tmp_path, "-p", "pytest_asyncio.plugin")
    assert result.returncode == 0 and "3 passed" in result.stdout, result.stdout + result.stderr


def test_sync_tests_need_no_asyncio_plugin(tmp_path: Path) -> None:
    sync_only = CONTROL_PLANE.split("\n\n@pytest.mark.asyncio", 1)[0]
    (tmp_path / "test_control.py").write_text(sync_only)
    result = run_pytest(tmp_path)
    assert result.returncode == 0 and "2 passed" in result.stdout, result.stdout + result.stderr
