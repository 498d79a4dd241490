"""Regenerate docs/inspector/*.png: a small scripted session in the emulator, one screenshot per view.

    python -m scripts.inspector_screenshots [OUT_DIR]     (from the repository root; --help for more)

Needs the dev extra (playwright) and Debian's Chromium, like tests/browser.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, async_playwright, expect

from fake_askelephant.app import create_app
from fake_askelephant.config import Settings
from fake_askelephant.core.timefmt import parse_iso
from tests.browser.chromium import CHROMIUM_FLAGS, VIEWPORT, chromium_path
from tests.conftest import AUTH, seed_call

TRANSCRIPT = "v1.engagement.transcript_timeline.completed"


async def scripted_session(http: ClientSession, base: str) -> str:
    """Two receivers (one flaky, one given the wrong secret), three calls at different stages; returns one id."""

    async def admin(method: str, path: str, body: Any) -> Any:
        async with http.request(method, f"{base}/__admin{path}", json=body) as resp:
            assert resp.status < 300, await resp.text()
            return await resp.json()

    async def create(**overrides: Any) -> str:
        async with http.post(f"{base}/api/v2/engagements", json=seed_call(**overrides), headers=AUTH) as resp:
            assert resp.status == 201, await resp.text()
            engagement_id: str = (await resp.json())["id"]
            return engagement_id

    await admin("POST", "/webhook-endpoints", {"url": f"{base}/__admin/sink/dialer"})
    await admin("PUT", "/sink/dialer", {"statuses": [500, 500, 200, 200, 200, 200, 200]})
    await admin(
        "POST",
        "/webhook-endpoints",
        {"url": f"{base}/__admin/sink/staging", "event_types": [TRANSCRIPT], "hazards": {"wrong_secret": 1.0}},
    )
    followed = await create(title="Sales call with Jane Doe")
    await admin("POST", "/clock/advance", {"seconds": 400})
    # The dialer retries its POST (same external_id): a 200 replay, shown in the history.
    async with http.post(
        f"{base}/api/v2/engagements", json=seed_call(title="Sales call with Jane Doe"), headers=AUTH
    ) as r:
        assert r.status == 200, await r.text()
    await create(
        title='<img src=x onerror="alert(1)"><script>alert(2)</script>',
        external_id="call-20260513-002",
        external_url="wavv://call/12345",
    )
    await admin("POST", "/pipeline-rules", {"match": {"external_id": "call-*-003"}, "pipeline": {"signals": "failed"}})
    await create(title="Discovery call, signals fail", external_id="call-20260513-003")
    await admin("POST", "/clock/advance", {"seconds": 45})
    return followed


async def shoot(page: Page, base: str, view: str, ready: str, out: Path, name: str) -> None:
    await page.goto(f"{base}/__admin/ui#{view}")
    await expect(page.locator(ready).first).to_be_visible()
    await page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    print(out / f"{name}.png")


async def main(out: Path) -> None:
    settings = Settings(seed=7, time_scale=0.0, start_time=parse_iso("2026-03-09T11:59:00Z"))
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    try:
        async with ClientSession() as http:
            followed = await scripted_session(http, base)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
            page = await browser.new_page(viewport=VIEWPORT)
            await shoot(page, base, "engagements", "tr.engagement", out, "engagements")
            await shoot(page, base, f"engagement/{followed}", "tr.attempt", out, "engagement-history")
            await shoot(page, base, "deliveries", "table.deliveries", out, "deliveries")
            await shoot(page, base, "sink/staging", "details.sink-request", out, "sink")
            await shoot(page, base, "events", "table.events", out, "events")
            await shoot(page, base, "requests", "#requests-body .note, #requests-body table", out, "requests")
            await shoot(page, base, "faults", "#faults-body .note, #faults-body table", out, "faults")
            await browser.close()
    finally:
        await server.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.inspector_screenshots",
        description="Regenerate the inspector screenshots: a scripted emulator session, one PNG per view. Needs the "
        "dev extra (playwright) and Debian's Chromium; run it from the repository root.",
    )
    parser.add_argument(
        "out_dir", nargs="?", default="docs/inspector", type=Path, help="where to write the PNGs [docs/inspector]"
    )
    return parser


if __name__ == "__main__":
    args = build_parser().parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(args.out_dir))
