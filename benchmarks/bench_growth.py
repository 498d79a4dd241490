"""Growth table (issues 22 and 23), in one process: what each engagement costs as the store grows.

python -m benchmarks.bench_growth                       # 1,000 / 10,000 / 100,000
python -m benchmarks.bench_growth --sizes 1000,10000 --repeat 5 --json /tmp/growth.json

For each size N, a fresh emulator (seed 1, clock frozen) is filled through the engagement service (the path a
POST takes, without HTTP), then measured:

- RSS per engagement after the creates and after one clock advance that completes every pipeline;
- the first page (limit 25, default order) unfiltered and with each documented filter, cold (a change just
  invalidated every remembered result) and the median of `--repeat`, the first of them (right after the growth: a
  search builds its chunks' texts then), and a full paged walk (limit 100) of each; the filter indexes' bytes;
- the advance itself, and the longest the event loop was held during it (a ticker task that records the gap
  between its turns: what a health request waiting on the same loop would have waited);
- a reset of the workspace, and each admin read (`/__admin/*` listings, first page) through the app's handlers.

Numbers are medians on a shared machine: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import time
from typing import Any

import orjson

from fake_askelephant.api.context import emulator_key
from fake_askelephant.app import create_app
from fake_askelephant.config import Settings
from fake_askelephant.core import scopes
from fake_askelephant.core.crm import CrmRef
from fake_askelephant.core.engagements import EngagementQuery
from fake_askelephant.core.models import CrmAssociation, EngagementDraft, Participant, Principal
from fake_askelephant.core.paging import TimeRange
from fake_askelephant.emulator import Emulator
from fake_askelephant.gc_policy import CollectorPolicy

WS = "wrks_local"
WORDS = ("discovery", "renewal", "pricing", "onboarding", "demo", "support", "kickoff", "review")
RARE = "zebra"  # in 1 title of 500: a sparse search


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def admin_principal(em: Emulator) -> Principal:
    key = em.create_api_key([scopes.ADMIN], WS)
    found = em.store.authenticate_key(key.token)
    assert found is not None
    return found


async def fill(em: Emulator, who: Principal, n: int) -> None:
    for i in range(n):
        if i % 100 == 99:
            await asyncio.sleep(0)  # as a server between requests: due timers (the collector policy) run
        title = f"{WORDS[i % len(WORDS)].title()} call {i}" + (f" {RARE}" if i % 500 == 7 else "")
        participants = (Participant(email=f"buyer{i % 40}@customer{i % 7}.example"),) if i % 50 == 3 else ()
        draft = EngagementDraft(
            "MEETING" if i % 4 == 0 else "CALL",
            title,
            "dialer",
            f"bench-{i}",
            "https://recordings.example.com/a.mp3",
            participants=participants,
        )
        e = (await em.engagements.create_engagement(who, draft)).engagement
        if i % 1000 == 11:
            em.changes.change(e, emit=False, crm_association=CrmAssociation("deal", "deal-7"))


def queries(em: Emulator) -> dict[str, EngagementQuery]:
    linked = [e for e in em.store.workspace(WS).engagements.values() if e.contact_ids]
    contact = linked[0].contact_ids[0]
    company = next((c for e in linked for c in e.company_ids), None)
    now = em.clock.now_ms()
    out = {
        "unfiltered": EngagementQuery(),
        "status=COMPLETED": EngagementQuery(processing_statuses=frozenset({"COMPLETED"})),
        "status=FAILED (none)": EngagementQuery(processing_statuses=frozenset({"FAILED"})),
        "type=MEETING": EngagementQuery(engagement_types=frozenset({"MEETING"})),
        f"search={RARE} (1/500)": EngagementQuery(search=RARE),
        "search=pricing (1/8)": EngagementQuery(search="pricing"),
        "contact_ids (1/2,000)": EngagementQuery(contact_ids=frozenset({contact})),
        "updated_at last minute": EngagementQuery(updated_at=TimeRange(gte=now - 60_000)),
        "crm deal (1/1,000)": EngagementQuery(crm_associations=(CrmRef("deal-7", "deal"),)),
    }
    if company is not None:
        out["company_ids (1/350)"] = EngagementQuery(company_ids=frozenset({company}))
    return out


def time_lists(em: Emulator, who: Principal, repeat: int) -> dict[str, dict[str, float]]:
    svc = em.engagements
    probe = next(iter(em.store.workspace(WS).engagements.values()))
    out: dict[str, dict[str, float]] = {}
    for name, q in queries(em).items():
        cold: list[float] = []
        warm: list[float] = []
        for _ in range(repeat):
            em.changes.change(probe, emit=False, title=probe.title)  # a change: nothing remembered survives it
            t0 = time.perf_counter()
            svc.list_engagements(who, q)
            cold.append(ms_since(t0))
            t0 = time.perf_counter()
            svc.list_engagements(who, q)
            warm.append(ms_since(t0))
        t0 = time.perf_counter()
        pages, after, seen = 0, None, 0
        while True:
            page = svc.list_engagements(who, EngagementQuery(**{**q.__dict__, "limit": 100, "after": after}))
            pages, seen = pages + 1, seen + len(page.items)
            if page.next_after is None:
                break
            after = page.next_after
        out[name] = {
            "first_page_cold_ms": statistics.median(cold),
            "first_page_first_ms": cold[0],  # the first after growth: a search builds every chunk's text here
            "first_page_warm_ms": statistics.median(warm),
            "walk_ms": ms_since(t0),
            "walk_pages": pages,
            "matches": seen,
        }
    return out


async def advance_with_ticker(em: Emulator, seconds: float) -> tuple[float, float, float]:
    """(advance ms, longest gap between the ticker's turns in ms, this process's CPU ms in the most CPU-costly
    gap). A gap far longer than its CPU is the machine's scheduler, not the emulator: a busy shared machine
    preempts the process for 100–300 ms at times."""
    longest = longest_cpu = 0.0
    running = True

    async def ticker() -> None:
        nonlocal longest, longest_cpu
        last, last_cpu = time.perf_counter(), time.thread_time()
        while running:
            await asyncio.sleep(0)
            now, cpu = time.perf_counter(), time.thread_time()
            longest, longest_cpu = max(longest, now - last), max(longest_cpu, cpu - last_cpu)
            last, last_cpu = now, cpu

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    t0 = time.perf_counter()
    await em.advance(seconds)
    took = ms_since(t0)
    running = False
    await task
    return took, longest * 1000, longest_cpu * 1000


async def admin_reads(app: Any) -> dict[str, float]:
    """First page of each admin listing through the real handlers (aiohttp test client on loopback)."""
    from aiohttp.test_utils import TestClient, TestServer

    out: dict[str, float] = {}
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        for path in ADMIN_PATHS:
            times = []
            size = 0
            for _ in range(3):
                t0 = time.perf_counter()
                resp = await client.get(path)
                body = await resp.read()
                times.append(ms_since(t0))
                size = len(body)
                if resp.status != 200:
                    raise RuntimeError(f"{path} answered {resp.status}: {body[:200]!r}")
            out[path] = statistics.median(times)
            out[path + " bytes"] = size
    finally:
        await client.close()
    return out


ADMIN_PATHS = ("/__admin/health", "/__admin/state", "/__admin/events", "/__admin/deliveries", "/__admin/requests")


class GcPauses:
    """Every collection's generation and CPU time (thread time: what the collector itself cost, not the waits a
    shared machine adds), from gc.callbacks."""

    def __init__(self) -> None:
        self.by_gen: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._t0 = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = time.thread_time()
        else:
            self.by_gen[info["generation"]].append((time.thread_time() - self._t0) * 1000)

    def summary(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for gen, times in self.by_gen.items():
            out[f"gen{gen}_n"] = len(times)
            out[f"gen{gen}_max_ms"] = max(times, default=0.0)
            out[f"gen{gen}_total_ms"] = sum(times)
        return out


async def creates_timed(em: Emulator, who: Principal, count: int) -> dict[str, float]:
    """Each create's own time (raw, no coordinated-omission correction), with the collector as configured."""
    times = []
    for i in range(count):
        draft = EngagementDraft("CALL", f"Late call {i}", "dialer", f"late-{i}", "https://recordings.example.com/a.mp3")
        t0 = time.perf_counter()
        await em.engagements.create_engagement(who, draft)
        times.append(ms_since(t0))
        await asyncio.sleep(0)  # between requests: due timers (the collector policy) run
    times.sort()
    return {
        "p50_ms": times[len(times) // 2],
        "p99_ms": times[int(len(times) * 0.99)],
        "max_ms": times[-1],
        "over_20ms": sum(t > 20 for t in times),
    }


async def measure(n: int, repeat: int, with_admin: bool, freeze: bool) -> dict[str, Any]:
    gc.collect()
    base = rss_bytes()
    app = create_app(Settings(seed=1, time_scale=0.0))
    em: Emulator = app[emulator_key]
    who = admin_principal(em)
    gc.freeze()  # start-up objects, as `serve` does
    policy = CollectorPolicy(em.record_count, lambda: em.write_set.version)
    governing = asyncio.create_task(policy.run()) if freeze else None
    pauses = GcPauses()
    gc.callbacks.append(pauses)
    empty = rss_bytes()
    t0 = time.perf_counter()
    await fill(em, who, n)
    create_s = ms_since(t0) / 1000
    if freeze:
        policy.check()  # what serve's policy does within a second of the growth
    created = rss_bytes()
    lists_before = time_lists(em, who, repeat)
    advance_ms, longest_gap_ms, longest_gap_cpu_ms = await advance_with_ticker(em, 3600)
    if freeze:
        policy.check()
    for _ in range(200):  # let the releaser and delivery tasks settle
        await asyncio.sleep(0)
    completed = rss_bytes()
    lists_after = time_lists(em, who, repeat)
    index_bytes = em.store.workspace(WS).engagement_order.index_bytes()
    admin = await admin_reads(app) if with_admin else {}
    late_creates = await creates_timed(em, who, 2_000)  # after N: what a create costs in a big store
    gc.callbacks.remove(pauses)
    if governing is not None:
        governing.cancel()
    t0 = time.perf_counter()
    em.reset(WS)
    reset_ms = ms_since(t0)
    return {
        "n": n,
        "rss_base_mb": base / 2**20,
        "rss_empty_mb": empty / 2**20,
        "create_s": create_s,
        "rss_per_engagement_created_b": (created - empty) / n,
        "rss_per_engagement_completed_b": (completed - empty) / n,
        "lists_pending": lists_before,
        "lists_completed": lists_after,
        "index_bytes": index_bytes,
        "advance_ms": advance_ms,
        "advance_per_engagement_ms": advance_ms / n,
        "longest_loop_gap_during_advance_ms": longest_gap_ms,
        "longest_loop_gap_cpu_during_advance_ms": longest_gap_cpu_ms,
        "collector_policy": freeze,
        "creates_after_n": late_creates,
        "gc_pauses": pauses.summary(),
        "admin_reads_ms": admin,
        "reset_ms": reset_ms,
        "loadavg": os.getloadavg(),
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"## N = {result['n']:,}  (load average {', '.join(f'{x:.1f}' for x in result['loadavg'])})",
        f"creates {result['create_s']:.1f} s; RSS/engagement {result['rss_per_engagement_created_b'] / 1024:.2f} KB "
        f"created, {result['rss_per_engagement_completed_b'] / 1024:.2f} KB pipelines completed",
        f"advance (all pipelines) {result['advance_ms']:.0f} ms = {result['advance_per_engagement_ms']:.3f} ms each; "
        f"longest loop hold {result['longest_loop_gap_during_advance_ms']:.1f} ms wall, "
        f"{result['longest_loop_gap_cpu_during_advance_ms']:.1f} ms CPU at most; reset {result['reset_ms']:.2f} ms",
        f"2,000 more creates (raw, in process, collector policy: {result['collector_policy']}): "
        + ", ".join(f"{k} {v:.2f}" for k, v in result["creates_after_n"].items()),
        "collector (fill → advance → creates; CPU ms): "
        + ", ".join(f"{k} {v:.1f}" for k, v in result["gc_pauses"].items()),
        "filter indexes (bytes per engagement, search texts built): "
        + ", ".join(f"{k} {v / result['n']:.1f}" for k, v in result["index_bytes"].items())
        + f"; total {sum(result['index_bytes'].values()) / result['n']:.0f}",
        "| list (after pipelines) | first page cold ms | first after growth | warm | matches | full walk (limit 100) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in result["lists_completed"].items():
        lines.append(
            f"| {name} | {r['first_page_cold_ms']:.2f} | {r['first_page_first_ms']:.2f} | "
            f"{r['first_page_warm_ms']:.2f} | {r['matches']:,} | {r['walk_ms']:.0f} |"
        )
    for path, v in result["admin_reads_ms"].items():
        if not path.endswith("bytes"):
            lines.append(f"admin {path}: {v:.1f} ms, {result['admin_reads_ms'][path + ' bytes']:,} bytes")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-admin", action="store_true", help="skip the admin reads")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--no-policy", action="store_true", help="the collector as Python ships it (no gc_policy)")
    args = parser.parse_args(argv)
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        result = asyncio.run(measure(n, args.repeat, not args.no_admin, not args.no_policy))
        results.append(result)
        print(table(result), flush=True)
    if args.json:
        with open(args.json, "wb") as f:
            f.write(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
