"""DNS rebinding against a loopback-bound emulator, with a real browser (api/hosts.py).

Chromium resolves `rebound.test` to 127.0.0.1 (--host-resolver-rules), the state a rebinding attack reaches once
the attacker's name points at loopback: the page's requests to the emulator are then same-origin, so the
control plane's cross-site checks see nothing foreign and the default API key works. Only the Host header
gives the attack away; both the public API and the control plane must refuse it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from fake_askelephant.api.context import emulator_key
from fake_askelephant.app import create_app
from tests.browser.conftest import launched_chromium
from tests.conftest import frozen_settings

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]

ATTACK = """async () => {
  const register = await fetch("/__admin/webhook-endpoints", {method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({url: "http://127.0.0.1:9/attacker"})});
  const read = await fetch("/api/v2/engagements", {headers: {"Authorization": "sk-apik_local.fakeaskelephant"}});
  return [register.status, read.status, (await read.json()).type];
}"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rebinding_browser() -> AsyncIterator[Any]:
    rules = "--host-resolver-rules=MAP rebound.test 127.0.0.1, MAP lab.example 127.0.0.1"
    async with launched_chromium(rules) as instance:
        yield instance


async def _attack(browser: Any, server: TestServer, host: str) -> list[Any]:
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(f"http://{host}:{server.port}/__admin/health")
        return list(await page.evaluate(ATTACK))
    finally:
        await context.close()


async def test_a_rebound_name_reaches_neither_the_api_nor_the_control_plane(rebinding_browser: Any) -> None:
    server = TestServer(create_app(frozen_settings()), host="127.0.0.1")
    await server.start_server()
    try:
        register, read, slug = await _attack(rebinding_browser, server, "rebound.test")
        assert (register, read) == (421, 421)
        assert slug == "https://app.askelephant.ai/errors/misdirected_request"
        assert list(server.app[emulator_key].webhooks.endpoints.values()) == []
    finally:
        await server.close()


@pytest.mark.parametrize(
    ("settings", "host"),
    [
        ({"allowed_hosts": ("lab.example",)}, "lab.example"),  # a name the user chose to trust
        ({"public_url": "http://lab.example:8787"}, "lab.example"),  # the name clients are told to use
        ({}, "localhost"),
    ],
)
async def test_names_the_user_trusts_still_work_from_a_browser(
    rebinding_browser: Any, settings: dict[str, Any], host: str
) -> None:
    server = TestServer(create_app(frozen_settings(**settings)), host="127.0.0.1")
    await server.start_server()
    try:
        register, read, _ = await _attack(rebinding_browser, server, host)
        assert (register, read) == (201, 200)
    finally:
        await server.close()
