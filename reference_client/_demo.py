"""``askelephant-ref demo``: the seed's four steps end to end, with this package's own receiver.

1 Ingest    submit a WAVV call (then resubmit it: 200, same id)
2 Process   the server transcribes and analyses
3 Notify    the transcript webhook reaches the receiver started here, verified and de-duplicated
4 Retrieve  ``wait_for_insights`` per dialer-flow.md §4, then print action items and signals

Against the emulator it registers its receiver via ``/__admin/webhook-endpoints`` and drives or
follows the virtual clock. Against the real API it needs a public URL for the receiver and the
endpoint's signing secret, because only a workspace owner can add endpoints (Settings > Webhooks).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from rich.console import Console
from rich.markup import escape

from reference_client._client import API_KEY_ENV, AskElephantClient
from reference_client._clock import Clock, SystemClock
from reference_client._errors import AskElephantError, NotFound, describe
from reference_client._insights import InsightsOutcome, InsightsPolicy
from reference_client._models import TRANSCRIPT_COMPLETED, EngagementOut, ProcessingStatus, WebhookEventOut
from reference_client._render import engagement_summary, print_insights, print_timeline_excerpt
from reference_client._wavv import WavvCall, engagement_from_wavv
from reference_client._webhooks import create_webhook_app
from reference_client.emulator import EmulatorAdmin, EmulatorAdminError, EmulatorClock, admin_base_url

EMULATOR_DEFAULT_KEY = "sk-apik_local.fakeaskelephant"
"""The emulator's documented default key (api.md §3); used only when the target is an emulator."""
WEBHOOK_SECRET_ENV = "ASKELEPHANT_WEBHOOK_SECRET"  # noqa: S105 - the variable name, not a secret
WEBHOOK_PATH = "/webhooks"

REAL_API_HELP = """\
The target is not the fake-askelephant emulator, so the demo cannot register its own webhook endpoint.
To run it against the real API:
  1. expose this machine's receiver publicly (e.g. a tunnel to http://127.0.0.1:<port>/webhooks);
  2. in AskElephant Settings > Webhooks add that public URL, subscribed to
     v1.engagement.transcript_timeline.completed, and copy its signing secret (whsec_...);
  3. rerun: askelephant-ref demo --base-url URL --port <port> --public-url https://.../webhooks \\
            --webhook-secret whsec_...   (or set ASKELEPHANT_WEBHOOK_SECRET)"""


class DemoFailed(Exception):
    """A demo step did not complete; the message says which and why."""


@dataclass
class DemoOptions:
    base_url: str
    api_key: str | None = None
    register_endpoint: bool | None = None
    """None = register when the target is an emulator."""
    webhook_secret: str | None = None
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 0
    clock: str = "auto"
    """auto | wall | advance | follow."""
    webhook_timeout: float = 900.0
    """Seconds on the chosen clock to wait for the transcript webhook."""
    insights_deadline: float = 300.0
    wavv_file: Path | None = None


def demo_call(started_at: datetime) -> WavvCall:
    call_id = f"demo-{secrets.token_hex(4)}"
    return WavvCall.model_validate(
        {
            "call_id": call_id,
            "agent": {"name": "Alice Smith", "email": "owner@example.com"},
            "lead": {
                "first_name": "Jane",
                "last_name": "Doe",
                "email": "jane@customer.com",
                "phone": "+14155550100",
            },
            "direction": "outbound",
            "started_at": started_at - timedelta(minutes=7),
            "ended_at": started_at,
            "recording_url": f"https://recordings.example.com/wavv/{call_id}.mp3",
            "disposition": "Interested",
        }
    )


async def _choose_clock(mode: str, admin: EmulatorAdmin, health: dict[str, Any] | None) -> Clock:
    if mode == "wall" or (mode == "auto" and health is None):
        return SystemClock()
    if health is None:
        raise DemoFailed(f"--clock {mode} needs the emulator's /__admin API, which {admin.admin_url} lacks")
    if mode == "auto":
        mode = "follow" if float(health.get("time_scale", 0) or 0) > 0 else "advance"
    return EmulatorClock(admin, mode="follow" if mode == "follow" else "advance")


async def _await_transcript_event(
    queue: asyncio.Queue[WebhookEventOut], engagement_id: str, clock: Clock, limit: float, console: Console
) -> WebhookEventOut:
    # Poll the queue between clock sleeps: on the advancing clock the delivery happens inside the
    # sleep itself, so there is nothing to race.
    step = 2.0 if isinstance(clock, SystemClock) else 5.0
    start = await clock.now()
    with console.status("3 Notify   waiting for the transcript webhook…") as status:
        while True:
            while not queue.empty():
                event = queue.get_nowait()
                if event.data.object.get("id") == engagement_id:
                    return event
            elapsed = (await clock.now() - start).total_seconds()
            if elapsed >= limit:
                raise DemoFailed(f"no transcript webhook for {engagement_id} within {limit:.0f} s")
            status.update(f"3 Notify   waiting for the transcript webhook… t+{elapsed:.0f}s")
            await clock.sleep(step)


async def run_demo(options: DemoOptions, console: Console) -> int:
    """Run the four steps; 0 when insights arrived (or processing completed), 1 on any failure."""
    async with EmulatorAdmin(admin_base_url(options.base_url)) as admin:
        health = await admin.health()
        if health is not None:
            scale = health.get("time_scale")
            console.print(f"target: fake-askelephant emulator at {options.base_url} (time_scale {scale})")
        api_key = options.api_key or os.environ.get(API_KEY_ENV) or (EMULATOR_DEFAULT_KEY if health else None)
        if not api_key:
            console.print(f"[red]no API key: pass --api-key or set {API_KEY_ENV}[/]")
            return 2
        register = options.register_endpoint if options.register_endpoint is not None else health is not None
        secret = options.webhook_secret or os.environ.get(WEBHOOK_SECRET_ENV)
        if not register and not (secret and options.public_url):
            console.print(REAL_API_HELP, markup=False)
            return 2
        try:
            clock = await _choose_clock(options.clock, admin, health)
            async with AskElephantClient(api_key, options.base_url, clock=clock) as client:
                return await _run_steps(options, console, admin, client, clock, register, secret)
        except (DemoFailed, AskElephantError, EmulatorAdminError) as exc:
            console.print(f"[red]demo failed:[/] {escape(describe(exc))}")
            return 1


async def _run_steps(
    options: DemoOptions,
    console: Console,
    admin: EmulatorAdmin,
    client: AskElephantClient,
    clock: Clock,
    register: bool,
    secret: str | None,
) -> int:
    events: asyncio.Queue[WebhookEventOut] = asyncio.Queue()

    async def on_event(event: WebhookEventOut) -> None:
        if event.type == TRANSCRIPT_COMPLETED:
            await events.put(event)

    # Bind first so the endpoint can be registered (and its secret known) before the app exists.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((options.host, options.port))
    port = sock.getsockname()[1]
    url = options.public_url or f"http://{options.host}:{port}{WEBHOOK_PATH}"
    endpoint_id: str | None = None
    runner: web.AppRunner | None = None
    try:
        if register:
            try:
                endpoint = await admin.create_webhook_endpoint(url, event_types=[TRANSCRIPT_COMPLETED])
            except EmulatorAdminError as exc:
                raise DemoFailed(f"could not register the receiver via /__admin/webhook-endpoints: {exc}") from exc
            endpoint_id, secret = endpoint.id, endpoint.secret
            console.print(f"receiver {url} registered as {endpoint_id}")
        assert secret is not None
        runner = web.AppRunner(create_webhook_app(secret, on_event, path=WEBHOOK_PATH))
        await runner.setup()
        await web.SockSite(runner, sock).start()
        console.print(f"receiver listening on http://{options.host}:{port}{WEBHOOK_PATH}")
        return await _four_steps(options, console, client, clock, events)
    finally:
        if endpoint_id is not None:
            with contextlib.suppress(EmulatorAdminError):
                await admin.delete_webhook_endpoint(endpoint_id)
        if runner is not None:
            await runner.cleanup()
        sock.close()


async def _four_steps(
    options: DemoOptions,
    console: Console,
    client: AskElephantClient,
    clock: Clock,
    events: asyncio.Queue[WebhookEventOut],
) -> int:
    if options.wavv_file is not None:
        call = WavvCall.model_validate_json(options.wavv_file.read_bytes())
    else:
        call = demo_call(await clock.now())
    request = engagement_from_wavv(call)
    engagement, created = await client.create_engagement(request)
    console.print(
        f"1 Ingest   POST /v2/engagements → {'201 created' if created else '200 already known'} "
        f"{engagement.id} (external_id {request.external_id})"
    )
    again, created_again = await client.create_engagement(request)
    if again.id != engagement.id or created_again:
        raise DemoFailed(f"resubmitting {request.external_id} gave {again.id} (created={created_again})")
    console.print(f"           resubmitted: 200, same id {again.id} (external_id is the idempotency key)")

    console.print("2 Process  AskElephant transcribes and analyses the recording")
    event = await _await_transcript_event(events, engagement.id, clock, options.webhook_timeout, console)
    notified = EngagementOut.model_validate(event.data.object)
    console.print(
        f"3 Notify   {event.type} ({event.id}) verified; status {notified.processing_status}, "
        f"external_url {notified.external_url}",
        highlight=False,
    )
    try:
        print_timeline_excerpt(console, await client.get_transcript_timeline(engagement.id))
    except NotFound:
        console.print("[yellow]transcript timeline not retrievable yet[/]")

    with console.status("4 Retrieve waiting for insights (45 s, then 15 s × 1.5 ≤ 60 s)…") as status:

        def on_poll(e: EngagementOut, now: datetime) -> None:
            waited = (now - event.created_at).total_seconds()
            status.update(
                f"4 Retrieve t+{waited:.0f}s: {len(e.action_items or [])} action item(s), "
                f"{len(e.signals or [])} signal(s), {e.processing_status}"
            )

        result = await client.wait_for_insights(
            engagement.id,
            since=event.created_at,
            policy=InsightsPolicy(deadline=options.insights_deadline),
            clock=clock,
            on_poll=on_poll,
        )
    console.print("4 Retrieve GET /v2/engagements/{id}?expand=action_items,signals")
    console.print(engagement_summary(result.engagement))
    print_insights(console, result)
    ok = result.outcome is InsightsOutcome.READY or (
        result.outcome is InsightsOutcome.FINAL and result.engagement.processing_status is ProcessingStatus.COMPLETED
    )
    console.print("[green]demo complete[/]" if ok else "[red]demo incomplete: insights did not arrive[/]")
    return 0 if ok else 1
