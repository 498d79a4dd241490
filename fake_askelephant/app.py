"""create_app: the one place that wires the core, the HTTP edge and background work together."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from .api import (
    admin,
    companies,
    contacts,
    directory_admin,
    engagement_links,
    engagements,
    faults,
    inspector,
    journal,
    media_links,
    oauth,
    persistence,
    scenario_admin,
    schema_routes,
    tags,
    users,
    webhook_admin,
)
from .api.context import emulator_key, settings_key
from .api.faults import fault_middleware
from .api.journal import RequestJournal, journal_key, journal_middleware
from .api.middlewares import auth_middleware, edge_middleware
from .api.persistence import persist_middleware, persistence_ctx, persister_key
from .api.rate_limit import RateLimiter, rate_limiter_key
from .config import Settings
from .core import content
from .core.clock import VirtualClock
from .core.errors import DomainError
from .core.store import DEFAULT_WORKSPACE
from .emulator import Emulator
from .fixture_files import FixtureError, describe, startup_fixtures
from .persistence.persister import Persister
from .persistence.statefile import StateFileError
from .webhooks.sender import HttpSender

if TYPE_CHECKING:
    from .media_fetch import MediaFetcher

MAX_BODY_BYTES = 8 * 1024 * 1024  # api.md §1
DRAIN_GRACE_S = 1.0  # webhook attempts still running at shutdown get this long, then are cancelled


def create_app(settings: Settings | None = None, *, clock: VirtualClock | None = None) -> web.Application:
    """Build the emulator app. Pass `clock` to share or pre-position the virtual clock (tests)."""
    settings = settings or Settings()
    # A state file is a continuation: its seed and virtual now win over the flags (time scale does not).
    persister = Persister(settings.state_file)
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
            fixtures=startup_fixtures(settings.fixtures, seed),
        )
    except DomainError as exc:  # a seed file that contradicts itself (conflicts, unknown references)
        raise FixtureError(f"--fixtures {settings.fixtures}: {describe(exc)}") from exc
    try:
        persister.attach(emulator)
    except StateFileError:
        persister.close_file()
        raise
    # Outermost first: journal → request id + errors → injected faults → state write → auth, rate limit, scopes.
    middlewares = [journal_middleware, edge_middleware, fault_middleware, auth_middleware]
    if persister.durable:
        middlewares.insert(3, persist_middleware)
    app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY_BYTES)
    app[emulator_key] = emulator
    app[settings_key] = settings
    app[persister_key] = persister
    app[journal_key] = RequestJournal()
    if settings.rate_limit is not None:
        app[rate_limiter_key] = RateLimiter(settings.rate_limit)
    routed = (engagements, users, admin, webhook_admin, schema_routes, media_links, inspector, faults, journal)
    for module in (*routed, persistence, scenario_admin):
        app.add_routes(module.routes)
    # api.md §10: contacts, companies, tags, engagement links, OAuth and their control plane.
    for module in (contacts, companies, tags, engagement_links, oauth, directory_admin):
        app.add_routes(module.routes)
    inspector.setup(app)
    registered = {(e.workspace_id, e.url) for e in emulator.webhooks.endpoints.values()}
    if settings.webhook_url and (DEFAULT_WORKSPACE, settings.webhook_url) not in registered:  # not again on restart
        emulator.webhooks.create_endpoint(DEFAULT_WORKSPACE, settings.webhook_url, secret=settings.webhook_secret)
    scenario_admin.install(app, settings)  # recording; after the endpoints above so it sees them
    app.cleanup_ctx.append(_webhook_sender)
    if fetcher is not None:
        app.cleanup_ctx.append(_media_fetcher(fetcher))
    app.cleanup_ctx.append(persistence_ctx)  # cleaned up after the ticker stopped: the final write is final
    app.cleanup_ctx.append(_scheduler_ticker)
    return app


async def _webhook_sender(app: web.Application) -> AsyncIterator[None]:
    """One pooled HTTP session for every delivery, closed after the scheduler has stopped."""
    session = HttpSender.create_session()
    app[emulator_key].webhooks.sender = HttpSender(session)
    yield
    app[emulator_key].webhooks.sender = None
    await session.close()


def _media_fetcher(fetcher: MediaFetcher) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        await fetcher.start()
        yield
        await fetcher.close()

    return ctx


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
