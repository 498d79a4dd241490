"""CSRF against the control plane (issue #19), with a real browser: a page from a second loopback origin tries
every request a page can send without a CORS preflight — no-cors text/plain and bodyless POSTs, a beacon, a
form post, multipart — plus a preflighted JSON one. Afterwards nothing is registered, armed or reset, and the
journal shows each attempt arrived and was refused (so the test proves refusal, not a page that sent nothing).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from playwright.async_api import expect

from fake_askelephant.api.admin.journal import journal_key
from fake_askelephant.api.context import emulator_key
from fake_askelephant.app import create_app
from tests.conftest import frozen_settings, seed_call

pytestmark = pytest.mark.asyncio(loop_scope="module")

ATTACK_PAGE = """<!doctype html><title>loading</title>
<iframe name="sink" id="sink"></iframe>
<form id="form" method="POST" target="sink"><input name="seconds" value="86400"></form>
<script>
const E = new URLSearchParams(location.search).get("emulator");
const hook = JSON.stringify({url: "http://127.0.0.1:9/attacker", event_types: ["v1.engagement.created"]});
// One after another, the reset last: each change must be visible on its own if it got through.
const attempts = [
  () => fetch(E + "/__admin/webhook-endpoints", {method: "POST", mode: "no-cors",
        headers: {"Content-Type": "text/plain"}, body: hook}),
  () => fetch(E + "/__admin/faults", {method: "POST", mode: "no-cors",
        body: JSON.stringify({status: 503, count: null})}),
  () => fetch(E + "/__admin/clock/advance", {method: "POST", mode: "no-cors", body: (() => {
        const f = new FormData(); f.append("seconds", "3600"); return f; })()}),
  () => fetch(E + "/__admin/api-keys", {method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({scopes: ["workspace:admin"]})}),  // preflighted: never sent
  () => new Promise((resolve) => resolve(navigator.sendBeacon(E + "/__admin/pipeline-rules", "{}"))),
  () => new Promise((resolve) => {
    const frame = document.getElementById("sink");
    frame.addEventListener("load", resolve, {once: true});
    const form = document.getElementById("form");
    form.action = E + "/__admin/clock/advance";
    form.submit();
  }),
  () => fetch(E + "/__admin/reset", {method: "POST", mode: "no-cors"}),
];
(async () => {
  window.results = [];
  for (const attempt of attempts) {
    try { await attempt(); window.results.push("sent"); } catch (e) { window.results.push(String(e)); }
  }
  document.title = "done";
})();
</script>"""
# (path, what the emulator answered): every simple request reaches it and is refused.
REFUSED = {
    ("POST", "/__admin/webhook-endpoints"),
    ("POST", "/__admin/faults"),
    ("POST", "/__admin/reset"),
    ("POST", "/__admin/clock/advance"),
    ("POST", "/__admin/pipeline-rules"),
}


@pytest_asyncio.fixture(loop_scope="module")
async def emulator() -> AsyncIterator[TestServer]:
    server = TestServer(create_app(frozen_settings()), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest_asyncio.fixture(loop_scope="module")
async def attacker() -> AsyncIterator[TestServer]:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=ATTACK_PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/attack.html", page)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest.mark.parametrize("attacker_host", ["localhost", "127.0.0.1"])  # another site; the same site, another port
async def test_a_page_on_another_origin_changes_nothing(
    browser: Any, emulator: TestServer, attacker: TestServer, attacker_host: str
) -> None:
    emu = emulator.app[emulator_key]
    engagement_id = await create_engagement(emulator)
    now = emu.clock.now_ms()
    context = await browser.new_context()
    page = await context.new_page()
    emulator_origin = f"http://127.0.0.1:{emulator.port}"
    await page.goto(f"http://{attacker_host}:{attacker.port}/attack.html?emulator={emulator_origin}")
    await page.wait_for_function("document.title === 'done'", timeout=20_000)
    await context.close()

    assert list(emu.webhooks.endpoints.values()) == []
    assert emu.faults.rules == []
    assert emu.rules.rules == []
    assert emu.clock.now_ms() == now
    assert emu.store.find_engagement_by_id(engagement_id) is not None  # no reset
    assert not [k for k in emu.store.keys.values() if k.key_id != "local"]  # no new API key
    seen = {(e.method, e.path): e.status for e in emulator.app[journal_key].entries}
    for attempt in REFUSED:
        assert attempt in seen, f"{attempt} never reached the emulator: the page did not try it"
        assert seen[attempt] in (403, 415), (attempt, seen[attempt])
    assert ("POST", "/__admin/api-keys") not in seen  # the preflight failed, so the browser never sent it


async def create_engagement(server: TestServer) -> str:
    async with ClientSession() as http:
        headers = {"Authorization": "sk-apik_local.fakeaskelephant"}
        async with http.post(server.make_url("/api/v2/engagements"), json=seed_call(), headers=headers) as resp:
            assert resp.status in (200, 201), await resp.text()
            engagement_id: str = json.loads(await resp.text())["id"]
            return engagement_id


async def test_the_inspector_asks_for_the_admin_token_once_and_keeps_working(browser: Any) -> None:
    token = "inspector-token-1"
    server = TestServer(create_app(frozen_settings(admin_token=token)), host="127.0.0.1")
    await server.start_server()
    context = await browser.new_context()
    page = await context.new_page()
    asked: list[str] = []

    async def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        await dialog.accept(token)

    page.on("dialog", answer)
    try:
        engagement_id = await create_engagement(server)
        await page.goto(str(server.make_url("/__admin/ui")) + "#engagements")
        row = page.locator(f"tr.engagement[data-engagement-id='{engagement_id}']")
        await expect(row.locator(".badge")).to_have_text("PENDING")
        await page.click("button[data-advance='300']")  # a change, sent with the token and same-origin
        await expect(row.locator(".badge")).to_have_text("COMPLETED")
        await page.reload()  # the tab keeps the token: no second question
        await expect(row.locator(".badge")).to_have_text("COMPLETED")
    finally:
        await context.close()
        await server.close()
    assert len(asked) == 1 and "admin token" in asked[0]
