"""create_app: the one place that builds the emulator and wires the HTTP features and background work around it."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from . import api, redaction
from .api import admin, cors, hosts, problems
from .api.admin import access, faults, inspector, journal, scenarios, snapshots
from .api.admin.seed_start import SeedDataError, describe, startup_seed_data
from .api.context import emulator_key, settings_key
from .config import Settings
from .core import content
from .core.clock import VirtualClock
from .core.errors import DomainError
from .emulator import Emulator
from .persistence.persister import Persister
from .webhooks.sender import HttpSender
from .webhooks.transport import Sender

if TYPE_CHECKING:
    from .media_fetch import MediaFetcher

MAX_BODY_BYTES = 8 * 1024 * 1024  # api.md §1
DRAIN_GRACE_S = 1.0  # webhook attempts still running at shutdown get this long, then are cancelled

Setup = Callable[[web.Application, Settings], None]
"""A feature's routes, AppKeys, middleware and lifecycle (cleanup_ctx), registered on the app."""


def create_app(
    settings: Settings | None = None,
    *,
    clock: VirtualClock | None = None,
    sender: Sender | None = None,
    defer_load: bool = False,
) -> web.Application:
    """Build the emulator app.

    Seams: `clock` shares or pre-positions the virtual clock; `sender` delivers webhooks to every URL that is
    not the built-in sink (default: one pooled aiohttp session, opened and closed with the app). `defer_load`
    (`serve`): a state file's records are loaded by `await app[persister_key].load()` once the server listens,
    health answering `starting` and other requests waiting meanwhile; otherwise they are loaded here.
    """
    settings = settings or Settings()
    redaction.install()  # no secret in aiohttp's or the emulator's log lines
    persister = Persister(settings.state_file)
    try:
        emulator, fetcher = _build_emulator(settings, persister, clock)
        persister.attach(emulator, defer=defer_load)
    except BaseException:  # a refused file or bad seed data: nothing will be served, so let go of the file
        persister.close_file()
        raise
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[emulator_key] = emulator
    app[settings_key] = settings
    app[snapshots.persister_key] = persister
    # One setup per feature. Their middlewares nest in this order, outermost first, because each needs to see what
    # the ones inside it did (or did not) do:
    features: tuple[Setup, ...] = (
        scenarios.setup,  # recording: what the client got, the final response or a connection a fault dropped
        inspector.setup_notes,  # which request created each engagement: only an answer the client got whole
        journal.setup,  # latency of everything inside; the status actually sent
        problems.setup,  # a request id on every response, problem+json for every error raised inside
        hosts.setup,  # a loopback-bound emulator answers loopback names only (DNS rebinding), before anything acts
        snapshots.setup_admission,  # requests wait while a state file loads, a snapshot is taken, a restore runs
        cors.setup,  # --cors-origin: preflights answered before auth or faults; /api only, never /__admin
        access.setup,  # /__admin: the admin token, and no cross-site changes (CSRF) — before anything acts on them
        faults.setup,  # first in the check order (api.md §4); phase "after" wraps the real work, state write included
        snapshots.setup,  # --state-file: on disk before the answer leaves (an "after" fault loses a saved response)
        api.setup,  # the public API: credential → rate limit → scopes, then the v2 routes
        admin.setup,  # the control plane's routes (no middleware)
        inspector.setup,  # the /__admin/ui page and engagement histories (no middleware)
        _background_work(fetcher, sender),  # last: its cleanup runs first, so the clock stops before the final write
    )
    for setup in features:
        setup(app, settings)
    return app


def _build_emulator(
    settings: Settings, persister: Persister, clock: VirtualClock | None
) -> tuple[Emulator, MediaFetcher | None]:
    # A state file is a continuation: its seed and virtual now win over the flags (time scale does not).
    seed = persister.saved_seed()
    if seed is None:
        seed = settings.seed if settings.seed is not None else random.SystemRandom().randrange(1, 2**31)
    if clock is None:
        saved_now = persister.saved_now_ms()
        clock = VirtualClock(saved_now if saved_now is not None else settings.start_time, settings.time_scale)
    fetcher = None
    if settings.media_fetch:
        from .media_fetch import MediaFetcher  # with mutagen, only for --media-fetch

        fetcher = MediaFetcher(
            settings.allow_media_hosts, fallback_duration=lambda url: content.media_duration(seed, url)
        )
    try:
        emulator = Emulator(
            seed=seed,
            clock=clock,
            api_keys=settings.api_keys,
            allow_media_hosts=settings.allow_media_hosts,
            media_probe=fetcher.probe if fetcher else None,
            seed_data=startup_seed_data(settings.fixtures, seed),
        )
    except DomainError as exc:  # a seed file that contradicts itself (conflicts, unknown references)
        raise SeedDataError(f"--fixtures {settings.fixtures}: {describe(exc)}") from exc
    return emulator, fetcher


def _background_work(fetcher: MediaFetcher | None, sender: Sender | None) -> Setup:
    """The webhook sender, the media fetcher and the scheduler ticker, started in that order, stopped in reverse."""

    def setup(app: web.Application, settings: Settings) -> None:
        app.cleanup_ctx.append(_webhook_sender(sender))
        if fetcher is not None:
            app.cleanup_ctx.append(_media_fetcher(fetcher))
            app.on_shutdown.append(lambda app: _stop_fetching(fetcher))
        app.cleanup_ctx.append(_scheduler_ticker)

    return setup


def _webhook_sender(given: Sender | None) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        """One pooled HTTP session for every delivery (unless a sender was given); closed after the scheduler."""
        dispatcher = app[emulator_key].webhooks
        if given is not None:
            dispatcher.sender = given
            yield
            dispatcher.sender = None
            return
        session = HttpSender.create_session()
        dispatcher.sender = HttpSender(session)
        yield
        dispatcher.sender = None
        await session.close()

    return ctx


def _media_fetcher(fetcher: MediaFetcher) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        await fetcher.start()
        yield
        await fetcher.close()

    return ctx


async def _stop_fetching(fetcher: MediaFetcher) -> None:
    fetcher.stop()  # on_shutdown runs before the server waits for requests in flight


async def _scheduler_ticker(app: web.Application) -> AsyncIterator[None]:
    """Runs due work as the clock moves by itself, and work due now (e.g. webhooks) even when frozen."""
    scheduler = app[emulator_key].scheduler
    task = asyncio.create_task(scheduler.run_forever(), name="fake-askelephant-scheduler")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(scheduler.drain_background(), DRAIN_GRACE_S)
    # Attempts still on the wire are cancelled, and record themselves as such (webhooks/delivery.py) before the
    # final state write, so a restart retries them.
    await scheduler.cancel_background()
