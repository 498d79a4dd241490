"""Headless Chromium (Debian's package) driven by Playwright against the emulator on a loopback port.

Skips with the reason when Playwright or Chromium is missing; FAKE_ASKELEPHANT_REQUIRE_BROWSER=1 (set by
.ci/run once it installed Chromium) turns that skip into a failure, so CI cannot go green by skipping.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from fake_askelephant.api.context import emulator_key
from fake_askelephant.app import create_app
from fake_askelephant.emulator import Emulator
from tests.browser.chromium import CHROMIUM_FLAGS, VIEWPORT, chromium_path
from tests.conftest import AUTH, frozen_settings, seed_call


def _unavailable(reason: str) -> None:
    message = f"browser tests need {reason}"
    if os.environ.get("FAKE_ASKELEPHANT_REQUIRE_BROWSER") == "1":
        pytest.fail(message + " (FAKE_ASKELEPHANT_REQUIRE_BROWSER=1)")
    pytest.skip(message)


@contextlib.asynccontextmanager
async def launched_chromium(*extra_args: str) -> AsyncIterator[Any]:
    """Debian's Chromium through Playwright (headless), or the skip/failure that says what is missing."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("the playwright package (pip install playwright; never `playwright install`)")
    path = chromium_path()
    if path is None:
        _unavailable("Chromium: apt-get install -y chromium, or set FAKE_ASKELEPHANT_CHROMIUM to its path")
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=path, args=[*CHROMIUM_FLAGS, *extra_args], headless=True
        )
        try:
            yield instance
        finally:
            await instance.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    async with launched_chromium() as instance:
        yield instance


@dataclass
class Inspector:
    """One emulator on a loopback port and one browser page pointed at its inspector."""

    server: TestServer
    page: Any
    http: ClientSession
    emulator: Emulator
    page_errors: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def open(self, view: str = "engagements") -> None:
        await self.page.goto(self.url("/__admin/ui") + f"#{view}")

    async def create(self, **overrides: Any) -> str:
        """POST /api/v2/engagements as a dialer would; returns the engagement id."""
        async with self.http.post(self.url("/api/v2/engagements"), json=seed_call(**overrides), headers=AUTH) as r:
            assert r.status == 201, await r.text()
            engagement_id: str = (await r.json())["id"]
            return engagement_id

    async def admin(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.http.request(method, self.url(f"/__admin{path}"), **kwargs) as r:
            return r.status, await r.json() if r.content_type.endswith("json") else None


@pytest_asyncio.fixture(loop_scope="module")
async def inspector(browser: Any) -> AsyncIterator[Inspector]:
    app = create_app(frozen_settings())
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    page.set_default_timeout(10_000)
    async with ClientSession() as http:
        ui = Inspector(server, page, http, app[emulator_key])
        page.on("pageerror", lambda exc: ui.page_errors.append(str(exc)))
        page.on("console", lambda msg: _csp_violation(msg, ui.page_errors))
        yield ui
    await context.close()
    await server.close()
    assert ui.page_errors == [], "the page raised or violated its CSP"


def _csp_violation(msg: Any, errors: list[str]) -> None:
    if msg.type == "error" and ("Content Security Policy" in msg.text or "TrustedHTML" in msg.text):
        errors.append(msg.text)
