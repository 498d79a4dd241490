"""create_app: the one place that wires the core, the HTTP edge and background work together."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator

from aiohttp import web

from .api import (
    admin,
    companies,
    contacts,
    directory_admin,
    engagement_links,
    engagements,
    inspector,
    media_links,
    oauth,
    schema_routes,
    tags,
    users,
    webhook_admin,
)
from .api.context import emulator_key, settings_key
from .api.middlewares import auth_middleware, edge_middleware
from .config import Settings
from .core.clock import VirtualClock
from .core.emulator import Emulator
from .core.errors import DomainError
from .core.store import DEFAULT_WORKSPACE
from .fixture_files import FixtureError, describe, startup_fixtures
from .webhooks.sender import HttpSender

MAX_BODY_BYTES = 8 * 1024 * 1024  # api.md §1


def create_app(settings: Settings | None = None, *, clock: VirtualClock | None = None) -> web.Application:
    """Build the emulator app. Pass `clock` to share or pre-position the virtual clock (tests)."""
    settings = settings or Settings()
    seed = settings.seed if settings.seed is not None else random.SystemRandom().randrange(1, 2**31)
    clock = clock or VirtualClock(settings.start_time, settings.time_scale)
    try:
        fixtures = startup_fixtures(settings.fixtures, seed)
        emulator = Emulator(seed=seed, clock=clock, api_keys=settings.api_keys, fixtures=fixtures)
    except DomainError as exc:  # a seed file that contradicts itself (conflicts, unknown references)
        raise FixtureError(f"--fixtures {settings.fixtures}: {describe(exc)}") from exc
    app = web.Application(middlewares=[edge_middleware, auth_middleware], client_max_size=MAX_BODY_BYTES)
    app[emulator_key] = emulator
    app[settings_key] = settings
    for module in (engagements, users, admin, webhook_admin, schema_routes, media_links, inspector):
        app.add_routes(module.routes)
    # api.md §10: contacts, companies, tags, engagement links, OAuth and their control plane.
    for module in (contacts, companies, tags, engagement_links, oauth, directory_admin):
        app.add_routes(module.routes)
    inspector.setup(app)
    if settings.webhook_url:
        emulator.webhooks.create_endpoint(DEFAULT_WORKSPACE, settings.webhook_url, secret=settings.webhook_secret)
    app.cleanup_ctx.append(_webhook_sender)
    app.cleanup_ctx.append(_scheduler_ticker)
    return app


async def _webhook_sender(app: web.Application) -> AsyncIterator[None]:
    """One pooled HTTP session for every delivery, closed after the scheduler has stopped."""
    session = HttpSender.create_session()
    app[emulator_key].webhooks.sender = HttpSender(session)
    yield
    app[emulator_key].webhooks.sender = None
    await session.close()


async def _scheduler_ticker(app: web.Application) -> AsyncIterator[None]:
    """Runs due work as the clock moves by itself, and work due now (e.g. webhooks) even when frozen."""
    scheduler = app[emulator_key].scheduler
    task = asyncio.create_task(scheduler.run_forever(), name="fake-askelephant-scheduler")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await scheduler.drain_background()
