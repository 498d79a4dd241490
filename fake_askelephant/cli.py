"""Command line: `fake-askelephant serve [flags]` (pipeline.md §8) and `fake-askelephant health`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from . import __version__
from .config import OPTIONS_BY_DEST, ConfigError, Settings, add_arguments, load_settings
from .core.store import DEFAULT_WORKSPACE
from .scenarios import cli as scenario_cli

if TYPE_CHECKING:
    from aiohttp import web

    from .shutdown import ShutdownSignals

# The server's modules load only for `serve`: `health` runs as a container HEALTHCHECK every few seconds and
# must answer well inside its 3 s timeout.

# In-flight requests get this long after SIGTERM; with the bounded scheduler drain and the final state write
# the process exits within 5 s (container runtimes send SIGKILL after 10 s by default). When it does not (a handler
# blocking the event loop), the watchdog in shutdown.py ends it at 4 s.
SHUTDOWN_GRACE_S = 3.0
PROXY_KEY_ENV = "ASKELEPHANT_API_KEY"
# `health` needs only where `serve` listens: other flags (and their env vars) are not its business.
HEALTH_OPTIONS = (
    replace(OPTIONS_BY_DEST["host"], help="the host `serve` binds; 0.0.0.0 or :: is probed on 127.0.0.1"),
    replace(OPTIONS_BY_DEST["port"], help="the port `serve` listens on"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fake-askelephant",
        description="Offline emulator of the AskElephant public API v2.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the emulator", description="Serve the API at http://HOST:PORT/api.")
    add_arguments(serve)
    health = commands.add_parser(
        "health",
        help="exit 0 if a running emulator answers /__admin/health (container HEALTHCHECK)",
        description="Probe /__admin/health of the emulator that `serve` with the same env/flags runs.",
    )
    health.add_argument("--url", help="health URL (default: from --host/--port or their FAKE_ASKELEPHANT_* vars)")
    health.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for the answer [default 3]")
    add_arguments(health, HEALTH_OPTIONS)
    scenario_cli.add_parser(commands)
    proxy = commands.add_parser(
        "proxy",
        help="forward to a real AskElephant API and record each exchange (for askelephant-contract parity)",
        description="Forward /api/... to --upstream with the key in ASKELEPHANT_API_KEY (reads and contract-test: "
        "engagement creates only) and append each exchange, secrets dropped and ids normalised, to --record.",
    )
    proxy.add_argument("--upstream", required=True, help="the API base, e.g. https://app.askelephant.ai/api")
    proxy.add_argument("--record", required=True, help="the JSON Lines recording to append to")
    proxy.add_argument("--host", default="127.0.0.1", help="address to listen on [default 127.0.0.1]")
    proxy.add_argument("--port", type=int, default=8788, help="port to listen on [default 8788]")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _main(argv)
        finally:  # --help's SystemExit too: a reader gone before the last buffered line is the same case
            sys.stdout.flush()
    except BrokenPipeError:
        return _reader_went_away()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        # No collections while the server's modules load (~0.01 s): start-up objects live for good and are
        # frozen once the server listens (serve()).
        gc.disable()
        try:
            return _serve_command(parser, args)
        finally:
            gc.enable()
    if args.command == "health":
        from . import healthcheck

        try:
            settings = load_settings(args, options=HEALTH_OPTIONS)
        except ConfigError as exc:
            parser.error(str(exc))
        healthy, line = healthcheck.check(args.url or healthcheck.default_url(settings), args.timeout)
        print(line, file=sys.stdout if healthy else sys.stderr)
        return 0 if healthy else 1
    if args.command == "scenario":
        return scenario_cli.main(args)
    if args.command == "proxy":
        return _proxy_command(parser, args)
    parser.error(f"unknown command {args.command}")


def _serve_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args)
    except ConfigError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from . import redaction

    redaction.install_on_handlers()  # every logger's records, not only the emulator's and aiohttp's
    # aiohttp logs one line per request at INFO; keep that for debug.
    logging.getLogger("aiohttp.access").setLevel(logging.DEBUG if settings.log_level == "debug" else logging.WARNING)
    from .api.admin.seed_start import SeedDataError
    from .listen import CannotListen
    from .persistence.statefile import StateFileError
    from .shutdown import ShutdownSignals

    try:
        # The signal watcher outlives the loop: a hang while the loop closes (its executor) is covered too.
        with ShutdownSignals() as signals, asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(serve(settings, signals))
    except (StateFileError, CannotListen) as exc:
        print(f"fake-askelephant: {exc}", file=sys.stderr)
        return 2
    except SeedDataError as exc:  # raised while building the app
        parser.error(str(exc))
    return 0


def _proxy_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    key = os.environ.get(PROXY_KEY_ENV)
    if not key:
        parser.error(f"proxy: set {PROXY_KEY_ENV} (the upstream key is read from the environment only)")
    from pathlib import Path

    from aiohttp import web

    from . import proxy

    app = proxy.make_app(args.upstream, key, Path(args.record))
    print(f"fake-askelephant proxy: http://{args.host}:{args.port}/api → {proxy.api_base(args.upstream)}", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)
    return 0


def _reader_went_away() -> int:
    """`… | head` closed stdout: stop quietly with exit 1, like other Unix tools, instead of printing a traceback.

    The one approach of all three console scripts (contract_tests.cli and reference_client.cli do the same), as
    Python's documentation recommends (signal module, "Note on SIGPIPE")."""
    # Point stdout at /dev/null so the interpreter's final flush does not raise a second time.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 1


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where installed (all but Windows): ~1.5× the requests/s of asyncio's own loop (benchmarks/)."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def serve(settings: Settings, signals: ShutdownSignals) -> None:
    """Bind, start, print where to connect, run until SIGTERM/SIGINT, then shut down gracefully."""

    from .app import create_app
    from .listen import bind, start_site
    from .serving import ConnectionLimits, EmulatorRunner

    # Bound first: a port in use starts nothing (no state file opened, no session to close).
    listener, handlers = await bind(settings.host, settings.port)
    try:
        app = create_app(settings, defer_load=True)
        runner = EmulatorRunner(
            app,
            limits=ConnectionLimits(settings.header_timeout, settings.max_connections),
            handle_signals=False,
            access_log_format='%a "%r" %s %Tfs',
            shutdown_timeout=SHUTDOWN_GRACE_S,
        )
        await runner.setup()
    except BaseException:
        listener.close()
        raise
    try:
        site = await start_site(runner, listener, handlers, settings.host)
        stop = asyncio.Event()
        signals.attach(asyncio.get_running_loop(), stop.set)
        loaded = await _load_state(app, stop)
        # Start-up objects (modules, schemas, a loaded state) live long: keep full garbage-collector passes from
        # re-scanning them; then the same for the store each time it has grown by a good part (gc_policy.py). Also
        # when a signal stopped the load: what it loaded (never collected, gc was off) would otherwise be traversed
        # at exit, over a second of CPU with 50,000 engagements.
        gc.freeze()
        gc.enable()
        if not loaded:
            return  # a signal came while the state file loaded: nothing changed, nothing to write
        from .api.context import emulator_key
        from .gc_policy import CollectorPolicy

        emulator = app[emulator_key]
        policy = CollectorPolicy(emulator.record_count, lambda: emulator.write_set.version)
        governing = asyncio.create_task(policy.run())
        print(banner(app, settings, site.port, site.addresses), flush=True)
        await stop.wait()
        governing.cancel()
    finally:
        listener.close()  # stop accepting (the site does the same when it started)
        await runner.cleanup()


async def _load_state(app: web.Application, stop: asyncio.Event) -> bool:
    """A state file's records, loaded while the server already answers (health: 503 `starting`, other requests
    wait), so a container's health check sees a live process at once (issue 23). False: stopped first."""
    from .api.admin.snapshots import persister_key

    loading = asyncio.ensure_future(app[persister_key].load())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({loading, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not loading.done():
        loading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loading
        return False
    loading.result()  # a row that does not decode: StateFileError, one line and exit 2
    return True


def banner(app: web.Application, settings: Settings, port: int, bound: Sequence[tuple[str, int]] = ()) -> str:
    from .api.admin.snapshots import persister_key
    from .api.context import emulator_key
    from .api.hosts import is_loopback_name

    emulator = app[emulator_key]
    host = settings.host if settings.host not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104
    base = f"http://{host}:{port}"
    loopback_only = all(is_loopback_name(bound_host) for bound_host, _ in bound)
    lines = [
        f"fake-askelephant {__version__}: AskElephant API v2 emulator",
        f"  Base URL    {base}/api",
        *(f"  API key     {key}   (workspace {DEFAULT_WORKSPACE}, workspace:admin)" for key in settings.api_keys),
        f"  Admin       {base}/__admin/health",
        *(f"  Webhook     {e.url}   secret {e.secret}" for e in emulator.webhooks.endpoints.values()),
        *([f"  State file  {settings.state_file}"] if app[persister_key].durable else []),
        *([f"  Recording   {settings.record} (written at shutdown)"] if settings.record else []),
        *([f"  Listening   {', '.join(_address(a) for a in bound)}"] if bound else []),
        *(["  Admin token required on /__admin (X-Admin-Token)"] if settings.admin_token else []),
        *([_OPEN_CONTROL_PLANE] if bound and not settings.admin_token and not loopback_only else []),
        f"  Seed        {emulator.seed}",
        f"  Time scale  {emulator.clock.time_scale}",
    ]
    return "\n".join(lines)


_OPEN_CONTROL_PLANE = (
    "  Warning     the control plane (/__admin) is open to the network, without a token: anyone who reaches this port "
    "can reset, fault or read webhook secrets; set --admin-token (FAKE_ASKELEPHANT_ADMIN_TOKEN)"
)


def _address(address: tuple[str, int]) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
