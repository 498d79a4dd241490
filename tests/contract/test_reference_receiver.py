"""The reference client's webhook receiver passes the receiver kit (runs once ``reference_client`` has landed)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aiohttp import web

from contract_tests.receiver import RECEIVER_CHECKS, ReceiverTarget, run_receiver_contract
from contract_tests.signing import generate_secret
from reference_client import _webhooks as webhooks

HOOK_PATH = "/webhooks"
PROBE_PATH = "/kit-probe"


def reference_app_with_probe(secret: str) -> web.Application:
    """The reference receiver app plus the kit's probe, counting ``on_event`` calls per envelope id."""
    processed: Counter[str] = Counter()

    async def on_event(event: Any) -> None:
        processed[event.id] += 1

    app = webhooks.create_webhook_app(secret, on_event, path=HOOK_PATH)

    async def probe(request: web.Request) -> web.Response:
        # Processing runs after the 2xx; drain first so the count is final, not a race.
        await app[webhooks.webhook_receiver].drain()
        return web.json_response({"processed": processed[request.query.get("event_id", "")]})

    app.router.add_get(PROBE_PATH, probe)
    return app


async def test_reference_receiver_passes_every_check(aiohttp_server) -> None:
    secret = generate_secret()
    server = await aiohttp_server(reference_app_with_probe(secret))
    target = ReceiverTarget(str(server.make_url(HOOK_PATH)), secret, str(server.make_url(PROBE_PATH)))
    report = await run_receiver_contract(target)
    assert report.ok, report.to_text()
    assert {r.name for r in report.results if r.outcome == "passed"} == {c.name for c in RECEIVER_CHECKS}
