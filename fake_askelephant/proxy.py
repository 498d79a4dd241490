"""`fake-askelephant proxy --upstream URL --record FILE`: record exchanges with a real AskElephant API (issue 20).

The proxy listens like the emulator (`/api/...`), forwards to the upstream API base with the key from
`ASKELEPHANT_API_KEY` only (a client's `Authorization` is dropped, never forwarded nor recorded), and appends
each exchange to a JSON Lines recording that `askelephant-contract parity` replays against the emulator.

Safety, as the contract suites' real mode: only reads (GET, HEAD) and engagement creates whose `external_id`
starts with `contract-test:` (idempotent by the docs) go upstream; anything else gets 403 here and is not
recorded.

The recording is normalised, so it can be kept and diffed: every id (`ngmt_01…`) becomes `ngmt_@N`, the same
N for the same id everywhere in the file, and every cursor `@cursorN`; timestamps in responses become
`@datetime`; of the response headers only those the docs name are kept (an ETag or Retry-After as `@present`).
The replay maps each placeholder to the value the target answered at the same place.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web
from multidict import CIMultiDict

from .core.records import dataclass

EXTERNAL_ID_PREFIX = "contract-test:"
ID = re.compile(r"^([a-z]+)_([A-Za-z0-9]{8,})$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
# Response headers the docs name (api.md §2–§4), kept in the recording; ETag / Retry-After values vary.
KEPT_HEADERS = ("X-Api-Version", "Content-Type", "ETag", "WWW-Authenticate", "Retry-After", "Warning")
PRESENT = "@present"
TIMEOUT = ClientTimeout(total=60)


def api_base(url: str) -> str:
    """`https://app.askelephant.ai` or `…/api` → `…/api`."""
    url = url.rstrip("/")
    return url if url.endswith("/api") else url + "/api"


def is_safe(method: str, path: str, body: bytes) -> bool:
    """Reads, and `POST /v2/engagements` with a `contract-test:` external_id (`path` after `/api`)."""
    if method in ("GET", "HEAD"):
        return True
    if method != "POST" or path != "/v2/engagements":
        return False
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    external_id = payload.get("external_id") if isinstance(payload, dict) else None
    return isinstance(external_id, str) and external_id.startswith(EXTERNAL_ID_PREFIX)


@dataclass
class Normaliser:
    """Stable placeholders for the ids and cursors of one recording."""

    names: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def placeholder(self, value: str, kind: str) -> str:
        if value not in self.names:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self.names[value] = f"{kind}_@{self.counts[kind]}" if kind != "@cursor" else f"@cursor{self.counts[kind]}"
        return self.names[value]

    def text(self, value: str, *, response: bool) -> str:
        if value in self.names:
            return self.names[value]
        m = ID.match(value)
        if m:
            return self.placeholder(value, m.group(1))
        if response and DATETIME.match(value):
            return "@datetime"
        return value

    def json(self, value: Any, *, response: bool, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: self.json(v, response=response, key=k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(v, response=response) for v in value]
        if isinstance(value, str):
            if key in ("next_cursor", "cursor") and value:
                return self.placeholder(value, "@cursor")
            return self.text(value, response=response)
        return value

    def path(self, path: str) -> str:
        return "/".join(self.text(part, response=False) for part in path.split("/"))


class Recorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.normaliser = Normaliser()

    def record(self, method: str, path: str, query: list[tuple[str, str]], body: bytes, resp: _Upstream) -> None:
        n = self.normaliser
        request_json = _json_or_none(body)
        response_json = _json_or_none(resp.body)
        headers = {}
        for name in KEPT_HEADERS:
            value = resp.headers.get(name)
            if value is not None:
                headers[name] = PRESENT if name in ("ETag", "Retry-After") else value.split(";")[0].strip()
        exchange = {
            "request": {
                "method": method,
                "path": n.path(path),
                "query": [[k, n.json(v, response=False, key=k)] for k, v in query],
                "json": n.json(request_json, response=False) if request_json is not None else None,
            },
            "response": {
                "status": resp.status,
                "headers": headers,
                "json": n.json(response_json, response=True) if response_json is not None else None,
            },
        }
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(exchange, ensure_ascii=False) + "\n")


@dataclass
class _Upstream:
    status: int
    headers: CIMultiDict[str]
    body: bytes


def _json_or_none(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def make_app(upstream: str, api_key: str, recording: Path) -> web.Application:
    base = api_base(upstream)
    recorder = Recorder(recording)
    session: dict[str, ClientSession] = {}

    async def forward(request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body = await request.read()
        if not is_safe(request.method, path, body):
            return web.json_response(
                {
                    "type": "https://app.askelephant.ai/errors/forbidden",
                    "title": "Forbidden",
                    "status": 403,
                    "detail": "The proxy forwards reads and contract-test: engagement creates only.",
                },
                status=403,
                content_type="application/problem+json",
            )
        headers = {"Authorization": api_key, "Accept": "application/json"}
        if body:
            headers["Content-Type"] = request.headers.get("Content-Type", "application/json")
        query = list(request.query.items())
        async with session["client"].request(
            request.method, base + path, params=query, data=body or None, headers=headers
        ) as r:
            answer = _Upstream(r.status, CIMultiDict(r.headers), await r.read())
        recorder.record(request.method, path, query, body, answer)
        passed = {k: v for k, v in answer.headers.items() if k.lower() in {*map(str.lower, KEPT_HEADERS), "location"}}
        return web.Response(status=answer.status, body=answer.body, headers=passed)

    async def client(_app: web.Application) -> AsyncIterator[None]:
        async with ClientSession(timeout=TIMEOUT) as opened:
            session["client"] = opened
            yield

    app = web.Application()
    app.router.add_route("*", "/api/{tail:.*}", forward)
    app.cleanup_ctx.append(client)
    return app
