"""What the first request of each kind costs after start-up, now that some modules load on first use (issue 22 §5).

python -m benchmarks.first_requests                      # this tree
python -m benchmarks.first_requests --compare ../main    # and another checkout, alternating, for a before/after

A fresh process per request kind (so each is the first of its process): CPU milliseconds (process time, gc off
as `serve` runs, so other load moves them little) of importing `serve`'s modules and building the app, then of
the first and the second request of that kind over loopback. Medians of --repeat processes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CREATE = {
    "title": "t",
    "type": "MEETING",
    "source_system": "s",
    "external_id": "x",
    "media_url": "https://example.com/a.mp3",
}
CASES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/__admin/health", None),
    ("GET", "/api/v2/engagements?limit=5", None),
    ("POST", "/api/v2/engagements", CREATE),
    ("GET", "/__admin/state", None),
    ("GET", "/__admin/deliveries", None),
    ("POST", "/__admin/clock/advance", {"seconds": 1}),
    ("POST", "/__admin/faults", {"status": 503, "count": 1, "path": "/nothing"}),
    ("GET", "/__admin/openapi.json", None),
]
PROBE = r"""
import asyncio, gc, json, sys, time
gc.disable()
began = time.process_time()
import fake_askelephant.cli, fake_askelephant.serving, fake_askelephant.listen, fake_askelephant.shutdown
from fake_askelephant.app import create_app
from fake_askelephant.config import Settings
from fake_askelephant.core.store import DEFAULT_API_KEY
app = create_app(Settings(seed=1, time_scale=0.0))
built = time.process_time()
from aiohttp.test_utils import TestClient, TestServer
method, path, body = json.loads(sys.argv[1])

async def main():
    async with TestClient(TestServer(app)) as client:
        out = []
        for i in range(2):
            sent = dict(body, external_id=f"x{i}") if body and "external_id" in body else body
            t = time.process_time()
            resp = await client.request(method, path, json=sent, headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"})
            await resp.read()
            out.append([(time.process_time() - t) * 1000, resp.status])
        return out

print(json.dumps({"start_ms": (built - began) * 1000, "requests": asyncio.run(main())}))
"""


def measure(root: Path, case: tuple[str, str, dict[str, Any] | None]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(case)], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compare", type=Path, help="another checkout, measured alternately (e.g. main)")
    parser.add_argument("--repeat", type=int, default=3, help="processes per request kind and tree [3]")
    args = parser.parse_args()
    roots = [ROOT, *([args.compare.resolve()] if args.compare else [])]
    print(f"load average {os.getloadavg()[0]:.2f}; CPU ms, median of {args.repeat}")
    print("| request | " + " | ".join(f"{r.name}: start / first / second (status)" for r in roots) + " |")
    print("|---|" + "---|" * len(roots))
    for case in CASES:
        runs: dict[Path, list[dict[str, Any]]] = {root: [] for root in roots}
        for _ in range(args.repeat):
            for root in roots:
                runs[root].append(measure(root, case))
        cells = []
        for root in roots:
            start = statistics.median(r["start_ms"] for r in runs[root])
            first = statistics.median(r["requests"][0][0] for r in runs[root])
            second = statistics.median(r["requests"][1][0] for r in runs[root])
            cells.append(f"{start:.0f} / {first:.1f} / {second:.1f} ({runs[root][0]['requests'][0][1]})")
        print(f"| {case[0]} {case[1]} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
