"""Snapshot and restore over a big store: how long each takes, and how long health and a single GET wait meanwhile.

python -m benchmarks.bench_snapshot                          # 10,000 and 100,000 engagements, memory and --state-file
python -m benchmarks.bench_snapshot --sizes 10000 --modes memory --json /tmp/snap.json
python -m benchmarks.bench_snapshot --sizes 100000 --fixtures sample     # over start-up seed data (serve's default)

For each size N and mode, the emulator (seed 1, clock frozen, the garbage-collector policy `serve` runs) serves
on a loopback port in this process and is filled through the engagement service (the path a POST takes, without
HTTP; pipelines left pending, so each engagement is two rows, itself and its pipeline run, plus the bounded event
log). A poller in a separate process sends `GET /__admin/health` and `GET /api/v2/engagements/{id}` back to back on
two keep-alive connections and records each request's own wall time (no coordinated-omission correction: a request
that waited is reported as waiting). Then `POST /__admin/snapshot` and `POST /__admin/restore` are timed; for each,
the polls that overlapped it give p50 / p99 / max. The longest gap between two turns of the event loop during each
is printed too (a task that only yields): what a request arriving at the worst moment would wait before being read.

A restore builds the restored state aside while GETs are answered from the old one, then swaps it in; during the
swap a GET waits by design (docs/reliability.md "Long work yields to requests"): the "reads held" column says how
long that was (wall, and the event loop's CPU). Health never waits. Numbers are from a shared machine: the load
average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from fake_askelephant.api.admin.snapshots import persister_key
from fake_askelephant.api.context import emulator_key
from fake_askelephant.app import create_app
from fake_askelephant.config import Settings
from fake_askelephant.core.admission import Admission
from fake_askelephant.gc_policy import CollectorPolicy

from .bench_growth import admin_principal, fill

AUTH = {"Authorization": "sk-apik_local.fakeaskelephant"}

# The poller: two threads, one per path, each on its own keep-alive connection; prints every poll as JSON lines
# [path index, wall start, seconds] when stdin closes.
POLLER = r"""
import http.client, json, sys, threading, time
port, paths = int(sys.argv[1]), sys.argv[2:]
stop = threading.Event()
out = []
def poll(i, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while not stop.is_set():
        t0 = time.time(); p0 = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": "sk-apik_local.fakeaskelephant"})
        resp = conn.getresponse(); resp.read()
        out.append((i, t0, time.perf_counter() - p0, resp.status))
threads = [threading.Thread(target=poll, args=(i, p)) for i, p in enumerate(paths)]
for t in threads: t.start()
sys.stdin.read()
stop.set()
for t in threads: t.join()
json.dump(out, sys.stdout)
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class LoopGaps:
    """The longest gap between two turns of the event loop, and the most CPU this thread used within one gap: a gap
    far longer than its CPU is the machine's scheduler (or the worker thread holding the GIL), not loop work. Also
    how long reads were held back (`admission.reads_held`, a restore's swap: a GET arriving then waits), wall and
    this thread's CPU, from the first turn that saw the hold to the first that saw it gone."""

    def __init__(self, admission: Admission) -> None:
        self.longest = self.longest_cpu = 0.0
        self.held = self.held_cpu = 0.0
        self._admission = admission
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LoopGaps:
        self._running = True
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *_: object) -> None:
        self._running = False
        assert self._task is not None
        await self._task

    async def _tick(self) -> None:
        last, last_cpu = time.perf_counter(), time.thread_time()
        held_since: tuple[float, float] | None = None
        while self._running:
            await asyncio.sleep(0)
            now, cpu = time.perf_counter(), time.thread_time()
            self.longest, self.longest_cpu = max(self.longest, now - last), max(self.longest_cpu, cpu - last_cpu)
            last, last_cpu = now, cpu
            if self._admission.reads_held and held_since is None:
                held_since = (now, cpu)
            elif not self._admission.reads_held and held_since is not None:
                self.held += now - held_since[0]
                self.held_cpu += cpu - held_since[1]
                held_since = None


async def measure(n: int, durable: bool, fixtures: str = "none") -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as work:
        state_file = str(Path(work) / "state.sqlite") if durable else None
        app = create_app(Settings(seed=1, time_scale=0.0, fixtures=fixtures, state_file=state_file))
        em = app[emulator_key]
        await fill(em, admin_principal(em), n)
        gc.freeze()  # as serve does after start-up and its collector policy after growth
        policy = asyncio.create_task(CollectorPolicy(em.record_count, lambda: em.write_set.version).run())
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        probe = next(iter(em.store.workspace("wrks_local").engagements))
        mode = ("state file" if durable else "memory") + ("" if fixtures == "none" else f", --fixtures {fixtures}")
        out: dict[str, Any] = {"engagements": n, "mode": mode}
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", headers=AUTH) as admin:
                if durable:  # the fill's records go to the file first (one big commit), as a server would have
                    async with admin.post("/__admin/clock/advance", json={"seconds": 0}) as r:
                        assert r.status == 200, await r.text()
                poller = subprocess.Popen(  # noqa: ASYNC220 (started once, before anything is measured)
                    [sys.executable, "-c", POLLER, str(port), "/__admin/health", f"/api/v2/engagements/{probe}"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
                await asyncio.sleep(0.5)  # its connections are open and warm
                windows: dict[str, tuple[float, float]] = {}
                for name, path in (("snapshot", "/__admin/snapshot"), ("restore", "/__admin/restore")):
                    async with LoopGaps(app[persister_key].admission) as gaps:
                        t0 = time.time()
                        async with admin.post(path, json={"name": "bench"}) as r:
                            answer = await r.json()
                            assert r.status in (200, 201), answer
                        t1 = time.time()
                    windows[name] = (t0, t1)
                    out[name] = {
                        "s": round(t1 - t0, 3),
                        "loop_gap_ms": round(gaps.longest * 1000, 1),
                        "loop_gap_cpu_ms": round(gaps.longest_cpu * 1000, 1),
                        "reads_held_ms": round(gaps.held * 1000, 1),
                        "reads_held_cpu_ms": round(gaps.held_cpu * 1000, 1),
                    }
                    if name == "snapshot":
                        out["rows"] = answer["records"]
                    await asyncio.sleep(0.3)
                stdout, _ = await asyncio.get_running_loop().run_in_executor(None, poller.communicate, b"")
        finally:
            policy.cancel()
            await runner.cleanup()
            gc.unfreeze()  # this size's store can go (the next size, a test process)
    polls = json.loads(stdout)
    assert all(status == 200 for *_, status in polls), "a poll was not answered 200"
    for name, (t0, t1) in windows.items():
        for i, label in enumerate(("health", "get")):
            during = [s * 1000 for j, start, s, _ in polls if j == i and start < t1 and start + s > t0]
            out[name][label] = {
                "n": len(during),
                "p50_ms": round(statistics.median(during), 1) if during else None,
                "p99_ms": round(percentile(during, 0.99), 1),
                "max_ms": round(max(during, default=float("nan")), 1),
            }
    out["load1"] = round(os.getloadavg()[0], 2)
    out["python"] = sys.version.split()[0]
    return out


def table(results: list[dict[str, Any]]) -> str:
    head = (
        "| mode | engagements | rows | work | took (s) | health p50 / p99 / max (ms) | GET p50 / p99 / max (ms) "
        "| longest loop gap: wall / most CPU (ms) | reads held: wall / CPU (ms) | load |"
    )
    lines = [head, "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        for work in ("snapshot", "restore"):
            w = r[work]
            h, g = w["health"], w["get"]
            lines.append(
                f"| {r['mode']} | {r['engagements']:,} | {r['rows']:,} | {work} | {w['s']} | "
                f"{h['p50_ms']} / {h['p99_ms']} / {h['max_ms']} (n={h['n']}) | "
                f"{g['p50_ms']} / {g['p99_ms']} / {g['max_ms']} (n={g['n']}) | "
                f"{w['loop_gap_ms']} / {w['loop_gap_cpu_ms']} | {w['reads_held_ms']} / {w['reads_held_cpu_ms']} | "
                f"{r['load1']} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--modes", default="memory,state-file")
    parser.add_argument("--fixtures", default="none", help="start-up seed data, as serve's --fixtures (default: none)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        for mode in args.modes.split(","):
            result = asyncio.run(measure(n, durable=mode == "state-file", fixtures=args.fixtures))
            print(json.dumps(result), flush=True)
            results.append(result)
    print(f"Python {sys.version.split()[0]}")
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
