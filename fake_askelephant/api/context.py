"""Typed keys for what the app and each request carry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from ..config import Settings
from ..core.models import Principal
from ..emulator import Emulator

emulator_key = web.AppKey("emulator_key", Emulator)
settings_key = web.AppKey("settings_key", Settings)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

request_id_key = web.RequestKey("request_id_key", str)
principal_key = web.RequestKey("principal_key", Principal)


def principal(request: web.Request) -> Principal:
    return request[principal_key]


def emulator(request: web.Request) -> Emulator:
    return request.app[emulator_key]


def request_id(request: web.Request) -> str:
    return request[request_id_key]
