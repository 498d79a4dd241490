"""API latency with an inspector tab open (issue 22 §3): a real browser polling the control plane beside the load.

    python -m benchmarks.bench_inspector                                   # 100,000 stored, c=32, 3 rounds
    python -m benchmarks.bench_inspector --engagements 10000 --duration 5 --json /tmp/inspector.json

The emulator runs as a user starts it (`serve --time-scale 0 --fixtures none`, its collector policy included) and
is filled over HTTP with `--engagements` engagements whose pipelines one clock advance then completes, so the
control plane has a full store, event log and request journal to page through. Debian's Chromium (headless,
driven by Playwright, as the browser tests drive it) opens the inspector at `/__admin/ui#VIEW` and stays on it:
the page polls every second, sending If-None-Match, and re-renders when something changed. Under a create load
something always changed, so every poll is a full read.

Per round, for each route (`get`: one stored engagement; `create`: a new-engagement POST) the same closed-loop
recorder as `bench_latency` (every request's own time, no coordinated-omission correction) runs once with the tab
on `about:blank` and once per view with the inspector open, in turn, so a busy machine slows all of them. The
browser's own timings of the admin requests the page sent are reported too (request start → first byte of the
answer, from the Resource Timing data Playwright exposes) with how many were 304 (nothing changed). Medians
over the rounds; the load average is printed beside them.

Issue 22 asks, at 100,000 engagements: any admin read < 50 ms, API p99 < 25 ms with an inspector tab open.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import asdict
from typing import Any

import aiohttp
import orjson

from tests.browser.chromium import CHROMIUM_FLAGS, VIEWPORT, chromium_path

from .bench_latency import EMULATOR_BARE, Raw, emulator_requests, first_id, percentile, record, summarize
from .procs import Server
from .workload import fill

VIEWS = ("engagements", "deliveries", "sink")


async def complete_pipelines(base_url: str) -> None:
    async with (
        aiohttp.ClientSession(base_url) as session,
        session.post("/__admin/clock/advance", json={"seconds": 3600}) as resp,
    ):
        if resp.status != 200:
            raise RuntimeError(f"advance answered {resp.status}: {await resp.text()}")


class AdminTimings:
    """The page's own admin requests: time to the answer (ms, the browser's Resource Timing responseStart: the
    server builds a body before it sends headers) and status. Taken from the `response` event: a 304 that the page
    does not read further shows as an aborted request in `requestfinished`/`requestfailed`."""

    def __init__(self) -> None:
        self.ms: list[float] = []
        self.statuses: list[int] = []

    def on_response(self, response: Any) -> None:
        url = response.url
        if "/__admin/" not in url or "/__admin/ui" in url:
            return
        started = response.request.timing.get("responseStart", -1)
        if started >= 0:
            self.ms.append(float(started))
        self.statuses.append(response.status)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.ms)
        return {
            "admin_requests": len(ordered),
            "admin_p50_ms": round(percentile(ordered, 0.5), 2),
            "admin_max_ms": round(ordered[-1], 2) if ordered else 0.0,
            "not_modified": sum(1 for s in self.statuses if s == 304),
        }


async def measure(args: argparse.Namespace, base_url: str) -> list[dict[str, Any]]:
    from playwright.async_api import async_playwright

    path = chromium_path()
    if path is None:
        raise SystemExit("Chromium not found: apt-get install -y chromium, or set FAKE_ASKELEPHANT_CHROMIUM")
    engagement_id = await first_id(base_url)
    requests = emulator_requests(engagement_id, "inspected")
    rows: list[dict[str, Any]] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS, headless=True)
        page = await browser.new_page(viewport={"width": VIEWPORT["width"], "height": VIEWPORT["height"]})
        timings = AdminTimings()
        page.on("response", timings.on_response)
        stored = args.engagements
        for round_ in range(args.rounds):
            for route in args.routes:
                for view in ("closed", *args.views):
                    await page.goto("about:blank" if view == "closed" else f"{base_url}/__admin/ui#{view}")
                    timings.ms.clear()
                    timings.statuses.clear()
                    lat, errors, elapsed, sent = await record(
                        base_url, requests[route], args.connections, args.duration, args.warmup
                    )
                    if route == "create":
                        stored += sent
                    raw: Raw = summarize("emulator", route, args.connections, elapsed, lat, errors, stored)
                    row = {"round": round_ + 1, "view": view, **asdict(raw), **timings.summary()}
                    rows.append(row)
                    print(f"[{round_ + 1}/{args.rounds}] {row}", file=sys.stderr)
        await browser.close()
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["route"], row["view"]), []).append(row)
    out = [
        "| route | inspector | req/s | p50 ms | p99 ms | max ms | admin requests (304) | admin p50 / max ms "
        "| stored | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (route, view), group in groups.items():

        def med(key: str, g: list[dict[str, Any]] = group) -> float:
            return float(statistics.median(r[key] for r in g))

        admin = (
            f"{med('admin_requests'):.0f} ({med('not_modified'):.0f}) | {med('admin_p50_ms'):.1f} / "
            f"{max(r['admin_max_ms'] for r in group):.1f}"
            if view != "closed"
            else "– | –"
        )
        out.append(
            f"| {route} | {'closed' if view == 'closed' else '#' + view} | {med('rps'):,.0f} | {med('p50_ms'):.2f} "
            f"| {med('p99_ms'):.2f} | {max(r['max_ms'] for r in group):.1f} | {admin} "
            f"| {group[0]['stored']:,}–{group[-1]['stored']:,} | {med('load1'):.2f} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engagements", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--routes", type=lambda s: s.split(","), default=["get", "create"])
    parser.add_argument("--views", type=lambda s: s.split(","), default=list(VIEWS))
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write every run here")
    args = parser.parse_args(argv)
    if not set(args.routes) <= {"create", "get"}:
        parser.error("--routes: create and/or get")
    if not set(args.views) <= set(VIEWS):
        parser.error(f"--views: some of {', '.join(VIEWS)}")
    with Server(EMULATOR_BARE) as emulator:
        began = time.perf_counter()
        asyncio.run(fill(emulator.base_url, args.engagements, "stored"))
        asyncio.run(complete_pipelines(emulator.base_url))
        print(f"filled {args.engagements:,} and completed their pipelines in {time.perf_counter() - began:.1f} s")
        rows = asyncio.run(measure(args, emulator.base_url))
        rss = emulator.rss_bytes()
    meta = {"engagements": args.engagements, "python": sys.version.split()[0], "cpus": os.cpu_count(), "rss": rss}
    if args.json:
        with open(args.json, "wb") as out:
            out.write(orjson.dumps({"meta": meta, "rows": rows}, option=orjson.OPT_INDENT_2))
    print(table(rows))


if __name__ == "__main__":
    main()
