"""`--cors-origin` with a real browser: a vendor's web app on a second loopback origin calls the public API (a
preflighted JSON POST with Authorization, then a GET), reads the exposed headers, and still cannot touch the
control plane. Without the flag the same page gets nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from fake_askelephant.api.admin.journal import journal_key
from fake_askelephant.api.context import emulator_key
from fake_askelephant.app import create_app
from tests.conftest import DEFAULT_KEY, frozen_settings, seed_call

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]

APP_PAGE = """<!doctype html><title>loading</title><script>
const E = new URLSearchParams(location.search).get("emulator");
const KEY = new URLSearchParams(location.search).get("key");
const BODY = new URLSearchParams(location.search).get("body");
(async () => {
  const out = {};
  try {
    const created = await fetch(E + "/api/v2/engagements", {method: "POST",
      headers: {"Authorization": KEY, "Content-Type": "application/json"}, body: BODY});
    out.create = {status: created.status, requestId: created.headers.get("X-Request-Id"),
                  location: created.headers.get("Location"), id: (await created.json()).id};
    const got = await fetch(E + out.create.location, {headers: {"Authorization": KEY}});
    out.get = {status: got.status, etag: got.headers.get("ETag")};
  } catch (e) { out.api = String(e); }
  try {
    await fetch(E + "/__admin/clock/advance", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({seconds: 3600})});
    out.admin = "sent";
  } catch (e) { out.admin = String(e); }
  window.out = out;
  document.title = "done";
})();
</script>"""


@pytest_asyncio.fixture(loop_scope="module")
async def vendor_app() -> AsyncIterator[TestServer]:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=APP_PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/index.html", page)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


async def run_page(browser: Any, vendor_app: TestServer, emulator: TestServer) -> dict[str, Any]:
    context = await browser.new_context()
    page = await context.new_page()
    params = {
        "emulator": f"http://127.0.0.1:{emulator.port}",
        "key": DEFAULT_KEY,
        "body": json.dumps(seed_call(external_id="from-the-browser")),
    }
    query = urlencode(params)
    # localhost vs 127.0.0.1: another origin (and another site) than the emulator's.
    await page.goto(f"http://localhost:{vendor_app.port}/index.html?{query}")
    await page.wait_for_function("document.title === 'done'", timeout=20_000)
    out: dict[str, Any] = await page.evaluate("window.out")
    await context.close()
    return out


async def test_a_web_app_on_an_allowed_origin_calls_the_api_and_not_the_control_plane(
    browser: Any, vendor_app: TestServer
) -> None:
    origin = f"http://localhost:{vendor_app.port}"
    emulator = TestServer(create_app(frozen_settings(cors_origins=(origin,))), host="127.0.0.1")
    await emulator.start_server()
    try:
        now = emulator.app[emulator_key].clock.now_ms()
        out = await run_page(browser, vendor_app, emulator)
        assert out["create"]["status"] == 201, out
        assert out["create"]["requestId"].startswith("rid_")
        assert out["create"]["location"] == f"/api/v2/engagements/{out['create']['id']}"
        assert out["get"]["status"] == 200 and out["get"]["etag"].startswith('W/"')
        assert "Failed to fetch" in out["admin"]  # the preflight to /__admin got no CORS answer
        assert emulator.app[emulator_key].clock.now_ms() == now
        assert emulator.app[emulator_key].store.find_engagement_by_id(out["create"]["id"]) is not None
    finally:
        await emulator.close()


async def test_without_the_flag_the_browser_refuses(browser: Any, vendor_app: TestServer) -> None:
    emulator = TestServer(create_app(frozen_settings()), host="127.0.0.1")
    await emulator.start_server()
    try:
        out = await run_page(browser, vendor_app, emulator)
        assert "Failed to fetch" in out["api"] and "create" not in out
        # The preflight failed, so the POST was never sent: no engagement under that external_id.
        journal = [(e.method, e.path) for e in emulator.app[journal_key].entries]
        assert ("OPTIONS", "/api/v2/engagements") in journal and ("POST", "/api/v2/engagements") not in journal
    finally:
        await emulator.close()
