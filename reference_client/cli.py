"""``askelephant-ref``: the reference client from the command line.

    askelephant-ref submit --wavv call.json                 # or --title/--external-id/--media-url ...
    askelephant-ref get ngmt_... --expand action_items,signals
    askelephant-ref list --search "Jane" --max 50
    askelephant-ref wait-insights ngmt_...
    askelephant-ref listen --port 8000 --webhook-secret whsec_...
    askelephant-ref demo --base-url http://127.0.0.1:8787/api

Exit codes: 0 success, 1 API or network failure (or insights that never came), 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from rich.console import Console
from rich.markup import escape

from reference_client._client import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, AskElephantClient
from reference_client._demo import WEBHOOK_SECRET_ENV, DemoOptions, run_demo
from reference_client._errors import AskElephantError, describe
from reference_client._insights import InsightsOutcome, InsightsPolicy
from reference_client._models import EngagementCreateIn, ProcessingStatus, WebhookEventOut
from reference_client._render import engagement_list, engagement_summary, event_line, print_insights
from reference_client._wavv import WavvCall, engagement_from_wavv
from reference_client.emulator import EmulatorAdmin, EmulatorClock, admin_base_url


class UsageError(Exception):
    """Bad command-line input (exit code 2)."""


def _participant(spec: str, *, owner: bool = False) -> dict[str, Any]:
    """``name=Jane Doe;email=jane@customer.com;phone=+14155550100`` → participant dict."""
    fields: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in ("name", "email", "phone"):
            raise UsageError(f"participant {spec!r}: use name=...;email=...;phone=... (got {part!r})")
        fields[key] = value.strip()
    if owner:
        fields["is_owner"] = True
    return fields


def _datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset; add Z or +hh:mm")
    return value


def _build_request(args: argparse.Namespace) -> EngagementCreateIn:
    if args.wavv is not None:
        call = WavvCall.model_validate_json(Path(args.wavv).read_bytes())
        return engagement_from_wavv(call, title=args.title, external_url=args.external_url)
    missing = [flag for flag, value in (("--title", args.title), ("--external-id", args.external_id)) if not value]
    if missing:
        raise UsageError(f"submit needs --wavv FILE or {' and '.join(missing)}")
    participants = [_participant(args.owner, owner=True)] if args.owner else []
    participants += [_participant(p) for p in args.participant]
    body: dict[str, Any] = {
        "type": args.type,
        "title": args.title,
        "source_system": args.source_system,
        "external_id": args.external_id,
        "media_url": args.media_url,
        "external_url": args.external_url,
        "start_at": args.start_at,
        "participants": participants or None,
        "is_private": True if args.private else None,
        "run_workflows": False if args.no_workflows else None,
    }
    return EngagementCreateIn.model_validate({k: v for k, v in body.items() if v is not None})


def _dump(console: Console, data: Any) -> None:
    console.print_json(json.dumps(data, ensure_ascii=False, default=str))


async def _submit(args: argparse.Namespace, console: Console) -> int:
    request = _build_request(args)
    async with _client(args) as client:
        engagement, created = await client.create_engagement(request)
    if args.json:
        _dump(console, {"created": created, "engagement": engagement.model_dump(mode="json")})
    else:
        console.print(f"{'created (201)' if created else 'already known (200)'}: {engagement.id}")
        console.print(engagement_summary(engagement))
    return 0


async def _get(args: argparse.Namespace, console: Console) -> int:
    expand = [e for e in (args.expand or "").split(",") if e.strip()]
    async with _client(args) as client:
        engagement = await client.get_engagement(args.engagement_id, expand=expand)
    if args.json:
        _dump(console, engagement.model_dump(mode="json", exclude_none=True))
    else:
        console.print(engagement_summary(engagement))
    return 0


async def _list(args: argparse.Namespace, console: Console) -> int:
    found = []
    async with _client(args) as client:
        async for engagement in client.list_engagements(
            limit=args.page_size, search=args.search, order_by=args.order_by, updated_after=args.updated_after
        ):
            found.append(engagement)
            if args.max is not None and len(found) >= args.max:
                break
    if args.json:
        _dump(console, [e.model_dump(mode="json", exclude_none=True) for e in found])
    else:
        console.print(engagement_list(found))
    return 0


async def _wait_insights(args: argparse.Namespace, console: Console) -> int:
    policy = InsightsPolicy(initial_wait=args.initial_wait, deadline=args.deadline)
    async with _client(args) as client, EmulatorAdmin(admin_base_url(client.base_url)) as admin:
        clock = EmulatorClock(admin, mode=args.emulator_clock) if args.emulator_clock else client.clock
        with console.status("waiting for insights…") as status:
            result = await client.wait_for_insights(
                args.engagement_id,
                since=args.since,
                policy=policy,
                clock=clock,
                on_poll=lambda e, now: status.update(
                    f"{now:%H:%M:%S}: {len(e.action_items or [])} action item(s), "
                    f"{len(e.signals or [])} signal(s), {e.processing_status}"
                ),
            )
    if args.json:
        _dump(console, {"outcome": result.outcome, "engagement": result.engagement.model_dump(mode="json")})
    else:
        print_insights(console, result)
    complete = result.outcome is InsightsOutcome.READY or (
        result.outcome is InsightsOutcome.FINAL and result.engagement.processing_status is ProcessingStatus.COMPLETED
    )
    return 0 if complete else 1


async def run_listener(
    secret: str,
    console: Console,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    path: str = "/webhooks",
    dedup_db: str | None = None,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Serve the verifying receiver and print each processed event until ``stop`` is set (or cancelled)."""
    from reference_client._dedup import SqliteDedupStore
    from reference_client._webhooks import create_webhook_app

    async def on_event(event: WebhookEventOut) -> None:
        console.print(event_line(event), markup=False)

    dedup = SqliteDedupStore(dedup_db) if dedup_db else None
    runner: web.AppRunner | None = None
    sock: socket.socket | None = None
    try:
        app = create_webhook_app(secret, on_event, path=path, dedup=dedup)
        sock = socket.create_server((host, port))
        bound = sock.getsockname()[1]
        runner = web.AppRunner(app)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        console.print(f"listening on http://{host}:{bound}{path} (Ctrl-C to stop)")
        if on_ready is not None:
            on_ready(bound)
        await (stop or asyncio.Event()).wait()
    finally:
        if runner is not None:
            await runner.cleanup()
        if sock is not None:
            sock.close()
        if dedup is not None:
            dedup.close()


async def _listen(args: argparse.Namespace, console: Console) -> int:
    secret = args.webhook_secret or os.environ.get(WEBHOOK_SECRET_ENV)
    if not secret:
        raise UsageError(f"listen needs --webhook-secret or {WEBHOOK_SECRET_ENV}")
    await run_listener(secret, console, host=args.host, port=args.port, path=args.path, dedup_db=args.dedup_db)
    return 0


async def _demo(args: argparse.Namespace, console: Console) -> int:
    options = DemoOptions(
        base_url=args.base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL,
        api_key=args.api_key,
        register_endpoint=args.register_endpoint,
        webhook_secret=args.webhook_secret,
        public_url=args.public_url,
        host=args.host,
        port=args.port,
        clock=args.clock,
        webhook_timeout=args.webhook_timeout,
        insights_deadline=args.deadline,
        wavv_file=Path(args.wavv) if args.wavv else None,
    )
    return await run_demo(options, console)


def _client(args: argparse.Namespace) -> AskElephantClient:
    try:
        return AskElephantClient(args.api_key, args.base_url)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def _connection_options(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--base-url", default=default, help=f"API base URL (env {BASE_URL_ENV}; default {DEFAULT_BASE_URL})"
    )
    parser.add_argument("--api-key", default=default, help=f"raw API key sk-apik_<id>.<secret> (env {API_KEY_ENV})")
    parser.add_argument("--json", action="store_true", default=default or False, help="print JSON, not tables")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="askelephant-ref", description="AskElephant reference dialer client.")
    _connection_options(parser, None)
    # The same options after the command name (``demo --base-url URL``); SUPPRESS keeps the
    # subcommand from overwriting a value given before it.
    shared = argparse.ArgumentParser(add_help=False)
    _connection_options(shared, argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True)

    submit = commands.add_parser(
        "submit", parents=[shared], help="POST /v2/engagements from flags or a WAVV call JSON file"
    )
    submit.add_argument("--wavv", metavar="FILE", help="a WavvCall JSON file (see docs/reference-client.md)")
    submit.add_argument("--type", choices=["CALL", "MEETING"], default="CALL")
    submit.add_argument("--title")
    submit.add_argument("--external-id", help="idempotency key; prefix it per source (my-dialer:123)")
    submit.add_argument("--source-system", default="askelephant-ref")
    submit.add_argument("--media-url", help="public https URL of the recording")
    submit.add_argument("--external-url", help="deep link back to the call")
    submit.add_argument("--start-at", type=_datetime)
    submit.add_argument("--owner", metavar="SPEC", help="name=...;email=...;phone=... of the owner")
    submit.add_argument("--participant", metavar="SPEC", action="append", default=[])
    submit.add_argument("--private", action="store_true")
    submit.add_argument("--no-workflows", action="store_true", help="run_workflows: false (imports)")

    get = commands.add_parser("get", parents=[shared], help="GET /v2/engagements/{id}")
    get.add_argument("engagement_id")
    get.add_argument("--expand", help="comma list, e.g. action_items,signals,transcript")

    listing = commands.add_parser("list", parents=[shared], help="GET /v2/engagements, every page")
    listing.add_argument("--search")
    listing.add_argument("--order-by", choices=["updated_at:asc", "updated_at:desc"])
    listing.add_argument("--updated-after", type=_datetime, help="filter[updated_at][gt]")
    listing.add_argument("--page-size", type=int)
    listing.add_argument("--max", type=int, help="stop after this many engagements")

    wait = commands.add_parser(
        "wait-insights", parents=[shared], help="wait for action items and signals (dialer-flow.md §4)"
    )
    wait.add_argument("engagement_id")
    wait.add_argument("--since", type=_datetime, help="transcript event time (default: now)")
    wait.add_argument("--initial-wait", type=float, default=45.0)
    wait.add_argument("--deadline", type=float, default=300.0)
    wait.add_argument(
        "--emulator-clock",
        choices=["advance", "follow"],
        help="wait on the emulator's virtual clock (tooling)",
    )

    listen = commands.add_parser("listen", parents=[shared], help="run the verifying webhook receiver and print events")
    listen.add_argument("--host", default="127.0.0.1")
    listen.add_argument("--port", type=int, default=8000)
    listen.add_argument("--path", default="/webhooks")
    listen.add_argument("--webhook-secret", help=f"endpoint signing secret whsec_... (env {WEBHOOK_SECRET_ENV})")
    listen.add_argument("--dedup-db", metavar="FILE", help="SQLite file for seen message ids (default: memory)")

    demo = commands.add_parser("demo", parents=[shared], help="the full dialer flow end to end")
    demo.add_argument(
        "--register-endpoint",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="register the receiver via /__admin (default: when the target is the emulator)",
    )
    demo.add_argument("--webhook-secret", help="real API: the endpoint's signing secret")
    demo.add_argument("--public-url", help="real API: the public URL that reaches this receiver")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=0, help="receiver port (0 = any free port)")
    demo.add_argument("--clock", choices=["auto", "wall", "advance", "follow"], default="auto")
    demo.add_argument("--webhook-timeout", type=float, default=900.0, help="seconds on the demo clock")
    demo.add_argument("--deadline", type=float, default=300.0, help="insights deadline after the webhook")
    demo.add_argument("--wavv", metavar="FILE", help="submit this WavvCall JSON instead of a generated one")
    return parser


_COMMANDS = {
    "submit": _submit,
    "get": _get,
    "list": _list,
    "wait-insights": _wait_insights,
    "listen": _listen,
    "demo": _demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _main(argv)
        finally:  # --help's SystemExit too: a reader gone before the last buffered line is the same case
            sys.stdout.flush()
    except BrokenPipeError:
        return _reader_went_away()


def _reader_went_away() -> int:
    """`… | head` closed stdout: stop quietly with exit 1 instead of printing a traceback (the approach of every
    console script here, fake_askelephant.cli's too, from Python's "Note on SIGPIPE")."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the final flush at exit must not raise again
    return 1


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(highlight=False)
    errors = Console(stderr=True, highlight=False)
    try:
        return asyncio.run(_COMMANDS[args.command](args, console))
    except BrokenPipeError:  # stdout's reader went away (network errors arrive as AskElephantError)
        raise
    except (UsageError, ValueError, OSError) as exc:
        # ValueError covers pydantic.ValidationError, WavvCallNotReady and unusable secrets or ids.
        errors.print(f"[red]error:[/] {escape(str(exc))}")
        return 2
    except AskElephantError as exc:
        errors.print(f"[red]error:[/] {escape(describe(exc))}")
        return 1
    except KeyboardInterrupt:
        return 0
