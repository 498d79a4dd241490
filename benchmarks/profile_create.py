"""Where a new-engagement POST spends its time (issue 22 §2), in one process, over real HTTP on loopback.

python -m benchmarks.profile_create                          # 100,000 stored, 4,000 creates profiled, c=32
python -m benchmarks.profile_create --stored 10000 --creates 2000 --top 40

The emulator is served as `serve` serves it (EmulatorRunner, `--fixtures none`, seed 1, clock frozen, start-up
objects frozen, the collector policy running) and filled through the engagement service with the create bodies the
HTTP benchmarks send (workload.call_body: validated by the route's own model). Then `--creates` new-engagement POSTs
go over loopback from `--connections` raw keep-alive connections (prebuilt request bytes, a few lines of asyncio:
the client's share of the CPU stays small): `--rounds` timed (process CPU per create, client included, and the
collector's share of it from `gc.callbacks`), then one round under cProfile, printed by own time (tottime) and by
cumulative time for the emulator's functions. cProfile inflates small calls; `py-spy record -- python -m
benchmarks.profile_create --no-profile` samples without that bias (not a dependency: install it yourself).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import os
import pstats
import time
from collections.abc import Iterator
from typing import Any

import orjson

from fake_askelephant.api.context import emulator_key
from fake_askelephant.api.schemas import EngagementCreateIn
from fake_askelephant.app import create_app
from fake_askelephant.config import Settings
from fake_askelephant.core.models import Principal
from fake_askelephant.emulator import Emulator
from fake_askelephant.gc_policy import MIDDLE_THRESHOLD, YOUNG_THRESHOLD, CollectorPolicy
from fake_askelephant.serving import EmulatorRunner

from .workload import API_KEY, ENGAGEMENTS, call_body

FILL_YIELD = 100  # engagements between event-loop turns while filling (due timers, the collector policy)


def request_bytes(host: str, external_id: str) -> bytes:
    body = orjson.dumps(call_body(external_id))
    head = (
        f"POST {ENGAGEMENTS} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {API_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def post_all(host: str, port: int, ids: Iterator[str], connections: int) -> int:
    """Send a POST for every id, `connections` at a time (closed loop); the number not answered 201."""
    bad = 0

    async def client() -> None:
        nonlocal bad
        reader, writer = await asyncio.open_connection(host, port)
        for external_id in ids:
            writer.write(request_bytes(host, external_id))
            if await read_response(reader) != 201:
                bad += 1
        writer.close()

    await asyncio.gather(*(client() for _ in range(connections)))
    return bad


async def fill(em: Emulator, who: Principal, n: int) -> None:
    for i in range(n):
        if i % FILL_YIELD == FILL_YIELD - 1:
            await asyncio.sleep(0)
        draft = EngagementCreateIn.model_validate(call_body(f"stored-{i}")).to_draft()
        await em.engagements.create_engagement(who, draft)


class CollectorTime:
    """gc.callbacks: CPU seconds spent in collector passes (thread time: other load does not inflate it)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._began = 0.0
        self.by_generation = [[0, 0.0], [0, 0.0], [0, 0.0]]  # passes, seconds

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.thread_time()
        else:
            took = time.thread_time() - self._began
            self.total += took
            self.by_generation[info["generation"]][0] += 1
            self.by_generation[info["generation"]][1] += took


def principal(em: Emulator) -> Principal:
    found = em.store.authenticate_key(API_KEY)
    assert found is not None
    return found


async def run(args: argparse.Namespace) -> dict[str, Any]:
    app = create_app(Settings(seed=1, time_scale=0.0, fixtures="none"))
    em: Emulator = app[emulator_key]
    runner = EmulatorRunner(app, handle_signals=False, access_log_format='%a "%r" %s %Tfs')
    await runner.setup()
    site = __import__("aiohttp").web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    gc.freeze()
    threshold = args.threshold or YOUNG_THRESHOLD
    policy = CollectorPolicy(em.record_count, lambda: em.write_set.version)
    if args.no_policy:
        if args.threshold:
            gc.set_threshold(args.threshold, *gc.get_threshold()[1:])
        governing = None
    else:
        governing = asyncio.create_task(policy.run(young_threshold=threshold, middle_threshold=args.middle_threshold))
    try:
        started = time.perf_counter()
        await fill(em, principal(em), args.stored)
        if governing is not None:
            policy.check()
        filled_s = time.perf_counter() - started
        out: dict[str, Any] = {"stored": args.stored, "fill_s": round(filled_s, 1)}
        await post_all("127.0.0.1", port, (f"warm-{i}" for i in range(500)), args.connections)
        rounds = []
        collector = CollectorTime()
        gc.callbacks.append(collector)
        for r in range(args.rounds):
            cpu, wall, collector.total = time.process_time(), time.perf_counter(), 0.0
            ids = (f"timed-{r}-{i}" for i in range(args.creates))
            bad = await post_all("127.0.0.1", port, ids, args.connections)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            per = 1e6 / args.creates
            rounds.append((round(cpu * per, 1), round(wall * per, 1), round(collector.total * per, 1), bad))
        gc.callbacks.remove(collector)
        out |= {
            "creates": args.creates,
            "rounds (cpu us, wall us, collector us, not 201)": rounds,
            "collector passes, ms (gen 0, 1, 2)": [(n, round(s * 1000, 1)) for n, s in collector.by_generation],
        }
        if args.no_profile:
            return out
        profiler = cProfile.Profile()
        profiler.enable()
        await post_all("127.0.0.1", port, (f"profiled-{i}" for i in range(args.creates)), args.connections)
        profiler.disable()
        out["profile"] = profile_text(profiler, args.top, args.creates)
        return out
    finally:
        if governing is not None:
            governing.cancel()
        await runner.cleanup()


def profile_text(profiler: cProfile.Profile, top: int, creates: int) -> str:
    buf = io.StringIO()
    stats = pstats.Stats(profiler, stream=buf)
    buf.write(f"--- by own time ({creates:,} creates; divide by it for per create) ---\n")
    stats.sort_stats("tottime").print_stats(top)
    buf.write("--- the emulator's functions by cumulative time ---\n")
    stats.sort_stats("cumulative").print_stats("fake_askelephant", top)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--creates", type=int, default=4_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of --creates before the profiled one")
    parser.add_argument(
        "--no-policy",
        action="store_true",
        help="without serve's collector policy (its passes run every 20 ms of wall time: under a slow tracer such "
        "as valgrind they would run once per request)",
    )
    parser.add_argument(
        "--threshold",
        type=int,
        default=0,
        help="the young generation's collector threshold (default: the policy's, gc_policy.YOUNG_THRESHOLD; "
        "with --no-policy, Python's)",
    )
    parser.add_argument(
        "--middle-threshold",
        type=int,
        default=MIDDLE_THRESHOLD,
        help="young passes per middle-generation pass under the policy (default gc_policy.MIDDLE_THRESHOLD; "
        "Python ships 10)",
    )
    parser.add_argument("--no-profile", action="store_true", help="only the timed rounds (e.g. under py-spy)")
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    if "profile" in result:
        print(result.pop("profile"))
    print({**result, "load1": round(os.getloadavg()[0], 2)})


if __name__ == "__main__":
    main()
