"""The control plane under /__admin (pipeline.md §7), apart from the public API (api/).

  control.py     health, the clock and scheduler, reset, API keys and OAuth clients, state and events,
                 pipeline overrides and rules, deletes with no public route
  webhooks.py    webhook endpoints, the delivery log, resend, the built-in sink
  seed_data.py   the seed-data document: `POST /__admin/fixtures`, `--fixtures sample|none|FILE`
  openapi.py     the wire format's JSON Schemas and OpenAPI document
  faults.py      HTTP fault injection and its middleware
  journal.py     the request journal and its middleware
  snapshots.py   `--state-file` writes (middleware) and named snapshots
  scenarios.py   session recording (middleware, `serve --record`)
  inspector.py   the /__admin/ui page and engagement histories

Every module registers itself with `setup(app, settings)`. Those with a middleware are called by create_app,
which writes the middleware order once; `setup` here registers the route groups.
"""

from __future__ import annotations

from aiohttp import web

from ...config import Settings
from . import control, openapi, seed_data, webhooks


def setup(app: web.Application, settings: Settings) -> None:
    for group in (control, webhooks, seed_data, openapi):
        group.setup(app, settings)
