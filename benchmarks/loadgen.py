"""Closed-loop load on loopback: `wrk` when installed, else an aiohttp client; both report the same fields.

Each of `connections` clients sends the next request as soon as the previous answer arrives, for `duration`
seconds after a short warm-up. A body may carry the placeholder `__N__`, replaced by a per-request counter
(unique `external_id`s for new-engagement POSTs).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

COUNTER = "__N__"
WRK_TIMEOUT_S = 10


@dataclass(frozen=True)
class RequestSpec:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body_for(self, n: int) -> bytes | None:
        return None if self.body is None else self.body.replace(COUNTER.encode(), str(n).encode())


@dataclass(frozen=True)
class LoadResult:
    generator: str
    connections: int
    seconds: float
    requests: int
    errors: int  # socket errors, timeouts and status >= 400
    rps: float
    p50_ms: float
    p99_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def combine(slices: list[LoadResult]) -> LoadResult:
    """Slices of one run as one result: totals for throughput, the median slice's p50 and p99."""
    seconds = sum(r.seconds for r in slices)
    requests = sum(r.requests for r in slices)
    return LoadResult(
        generator=slices[0].generator,
        connections=slices[0].connections,
        seconds=round(seconds, 3),
        requests=requests,
        errors=sum(r.errors for r in slices),
        rps=round(requests / seconds, 1) if seconds else 0.0,
        p50_ms=statistics.median(r.p50_ms for r in slices),
        p99_ms=statistics.median(r.p99_ms for r in slices),
    )


def pick_generator(requested: str) -> str:
    """`auto` means wrk when it is on PATH, else aiohttp."""
    if requested == "auto":
        return "wrk" if shutil.which("wrk") else "aiohttp"
    if requested == "wrk" and not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (apt-get install wrk), use --generator aiohttp")
    return requested


def run_load(
    generator: str, base_url: str, spec: RequestSpec, *, connections: int, duration: float, warmup: float
) -> LoadResult:
    if generator == "wrk":
        if warmup > 0:  # its own numbering: wrk counts from 1 in every run, and a replayed external_id is no create
            warm = spec.body.replace(COUNTER.encode(), f"w{COUNTER}".encode()) if spec.body is not None else None
            _wrk(base_url, RequestSpec(spec.method, spec.path, warm, spec.headers), connections, warmup)
        return _wrk(base_url, spec, connections, duration)
    return asyncio.run(_aiohttp_load(base_url, spec, connections, duration, warmup))


# aiohttp ---------------------------------------------------------------------------------------------


async def _aiohttp_load(
    base_url: str, spec: RequestSpec, connections: int, duration: float, warmup: float
) -> LoadResult:
    counter = itertools.count(1)
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(base_url, connector=connector) as session:

        async def phase(seconds: float) -> tuple[list[float], int, float]:
            latencies: list[float] = []
            errors = 0
            began = time.perf_counter()
            stop_at = began + seconds

            async def client() -> None:
                nonlocal errors
                while time.perf_counter() < stop_at:
                    sent = time.perf_counter()
                    try:
                        async with session.request(
                            spec.method, spec.path, data=spec.body_for(next(counter)), headers=spec.headers
                        ) as resp:
                            await resp.read()
                            if resp.status >= 400:
                                errors += 1
                    except (aiohttp.ClientError, TimeoutError):
                        errors += 1
                    latencies.append(time.perf_counter() - sent)

            await asyncio.gather(*(client() for _ in range(connections)))
            return latencies, errors, time.perf_counter() - began

        if warmup > 0:
            await phase(warmup)
        latencies, errors, elapsed = await phase(duration)
    return _result("aiohttp", connections, elapsed, latencies, errors)


def _result(generator: str, connections: int, elapsed: float, latencies: list[float], errors: int) -> LoadResult:
    if len(latencies) >= 2:
        cuts = statistics.quantiles(latencies, n=100, method="inclusive")
        p50, p99 = cuts[49], cuts[98]
    else:
        p50 = p99 = latencies[0] if latencies else 0.0
    return LoadResult(
        generator=generator,
        connections=connections,
        seconds=round(elapsed, 3),
        requests=len(latencies),
        errors=errors,
        rps=round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
        p50_ms=round(p50 * 1000, 3),
        p99_ms=round(p99 * 1000, 3),
    )


# wrk -------------------------------------------------------------------------------------------------

_WRK_SCRIPT = """
wrk.method = {method}
local template = {body}
local headers = {{}}
{headers}
local n = 0
request = function()
  n = n + 1
  local body = nil
  if template ~= nil then body = string.gsub(template, "{counter}", tostring(n)) end
  return wrk.format(nil, {path}, headers, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\n{{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d}}\\n',
    summary.requests, summary.duration, latency:percentile(50.0), latency:percentile(99.0),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def _lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def wrk_script(spec: RequestSpec) -> str:
    headers = "\n".join(f"headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in spec.headers.items())
    return _WRK_SCRIPT.format(
        method=_lua_string(spec.method),
        body="nil" if spec.body is None else _lua_string(spec.body.decode()),
        headers=headers,
        counter=COUNTER,
        path=_lua_string(spec.path),
    )


def _wrk(base_url: str, spec: RequestSpec, connections: int, duration: float) -> LoadResult:
    seconds = max(1, round(duration))  # wrk takes whole seconds
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp, "load.lua")
        script.write_text(wrk_script(spec))
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={WRK_TIMEOUT_S}s"]
        out = subprocess.run(
            [*command, "-s", str(script), base_url + spec.path],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    elapsed = data["duration_us"] / 1e6
    return LoadResult(
        generator="wrk",
        connections=connections,
        seconds=round(elapsed, 3),
        requests=data["requests"],
        errors=data["errors"],
        rps=round(data["requests"] / elapsed, 1),
        p50_ms=round(data["p50_us"] / 1000, 3),
        p99_ms=round(data["p99_us"] / 1000, 3),
    )
