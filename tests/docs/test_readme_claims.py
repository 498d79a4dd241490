"""What the README says the server does, checked against the server with the README's own requests."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from fake_askelephant.app import create_app
from fake_askelephant.config import Settings
from fake_askelephant.core.timefmt import parse_iso
from tests.cli_process import ROOT

README = (ROOT / "README.md").read_text()
KEY = "sk-apik_local.fakeaskelephant"
START = parse_iso("2026-05-13T09:00:00Z")


def block_after(marker: str, language: str) -> str:
    """The first ```LANGUAGE block after `marker`."""
    found = re.search(rf"```{language}\n(.*?)```", README.split(marker, 1)[1], re.S)
    assert found, f"no {language} block after {marker!r}"
    return found.group(1)


def curl_body(marker: str) -> bytes:
    """The `-d` argument of the curl command after `marker`, as the shell would pass it."""
    argv = shlex.split(block_after(marker, "bash").replace("\\\n", " "))
    return argv[argv.index("-d") + 1].encode()


def matches(shown: Any, real: Any) -> bool:
    """`real` is what the README shows, where `…` in a string stands for any text."""
    if isinstance(shown, dict):
        return isinstance(real, dict) and shown.keys() == real.keys() and all(matches(shown[k], real[k]) for k in shown)
    if isinstance(shown, list):
        return isinstance(real, list) and len(shown) == len(real) and all(map(matches, shown, real))
    if isinstance(shown, str) and "…" in shown:
        return (
            isinstance(real, str) and re.fullmatch(".*".join(map(re.escape, shown.split("…"))), real, re.S) is not None
        )
    return bool(shown == real)


async def post(client: TestClient, body: bytes) -> tuple[int, Any]:
    headers = {"Authorization": KEY, "Content-Type": "application/json"}
    async with client.post("/api/v2/engagements", data=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def test_the_bad_input_example_shows_what_the_server_answers() -> None:
    marker = "**Bad input gets a precise answer:**"
    body = curl_body(marker)
    shown = json.loads(block_after(marker, "json"))
    async with TestClient(TestServer(create_app(Settings(seed=1, time_scale=0)))) as client:
        status, answer = await post(client, body)
        assert status == shown["status"] == 422
        assert matches(shown, answer), answer
        # "the same request with a safe external_url gets 422 with media_url private_address"
        safe = json.loads(body) | {"external_url": "https://my-dialer.example.com/calls/e2"}
        status, answer = await post(client, json.dumps(safe).encode())
    assert status == 422
    assert [(e["field"], e["code"]) for e in answer["errors"]] == [("media_url", "private_address")]


async def walk_through(settings: Settings) -> list[Any]:
    """The walk-through's create, its advance and its expanded read."""
    body = curl_body("**1. Submit a call**")
    async with TestClient(TestServer(create_app(settings))) as client:
        status, created = await post(client, body)
        assert status == 201
        async with client.post("/__admin/clock/advance", json={"seconds": 600}) as resp:
            assert resp.status == 200
        headers = {"Authorization": KEY}
        path = f"/api/v2/engagements/{created['id']}"
        async with client.get(f"{path}?expand=action_items,signals,transcript", headers=headers) as resp:
            done = await resp.json()
        async with client.get(f"{path}/transcript_timeline", headers=headers) as resp:
            timeline = await resp.json()
    return [created, done, timeline]


def content(run: list[Any]) -> Any:
    """What one --seed fixes whatever the start time: transcript, insights and their timings after the create."""
    created, done, timeline = run
    start = parse_iso(created["created_at"])
    return {
        "timeline": timeline["entries"],
        "speakers": timeline["speakers"],
        "action_items": [(a["title"], a["description"]) for a in done["action_items"]],
        "signals": [(s["type"], s["quote"], s["start_seconds"], s["confidence"]) for s in done["signals"]],
        "timings": [parse_iso(done["updated_at"]) - start]
        + [parse_iso(i["created_at"]) - start for i in done["action_items"] + done["signals"]],
    }


async def test_one_seed_gives_the_same_ids_with_a_start_time_and_the_same_content_without() -> None:
    """The README claimed one --seed gives the same ids: only with --start-time and a frozen clock."""
    claim = README.split("- **Deterministic**:", 1)[1].split("\n- ", 1)[0]
    assert "`--start-time`" in claim and "`--time-scale 0`" in claim

    pinned = [await walk_through(Settings(seed=42, time_scale=0, start_time=START)) for _ in range(2)]
    assert pinned[0] == pinned[1]  # ids, timestamps, content: all of it

    later = await walk_through(Settings(seed=42, time_scale=0, start_time=START + 86_400_000))
    assert later[0]["id"] != pinned[0][0]["id"]  # an id embeds the virtual time it was made at
    assert content(later) == content(pinned[0])

    other_seed = await walk_through(Settings(seed=43, time_scale=0, start_time=START))
    assert content(other_seed) != content(pinned[0])
