"""Who may call /api: the credential (API key or OAuth bearer token), the rate limit, the route's scopes.

Check order (api.md §4): injected fault (api/admin/faults.py) → route (404/405) → auth 401 → rate limit 429 →
scope 403 → handler (syntax 400/413/415 → field rules 422 → expand scopes 403 → lookup 404 → logic).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ..core import scopes
from ..core.models import ApiKey, Principal
from ..core.records import dataclass
from ..core.store import Store, parse_api_key
from ..emulator import Emulator
from . import context
from .problems import Problem
from .queries import query_param_complaints

API_PREFIX = "/api/"
BEARER = "bearer "
STRICT_BEARER_DETAIL = "Send the raw API key without the Bearer prefix."
BEARER_WARNING = "send the raw API key without the Bearer prefix (Authorization: sk-apik_...); --strict rejects it"


def auth_middleware(emulator: Emulator, strict: bool, limiter: RateLimiter | None) -> Middleware:
    """The app's emulator, `--strict` and `--rate-limit` bound once; API keys' principals remembered (KeyPrincipals)."""
    principals = KeyPrincipals()

    @web.middleware
    async def authorize(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)
        match = request.match_info
        if match.http_exception is not None:
            raise match.http_exception  # unknown route / wrong method beat auth
        route_handler = match.handler
        if context.is_public(route_handler):
            check_query_params(request, route_handler, strict)
            return await handler(request)
        principal = credential(request, emulator, strict, principals)
        if limiter is not None:
            limiter.check(principal.credential_id)  # 429 after auth, before scopes (api.md §4, §9)
        scopes.require(principal, context.required_scopes(route_handler))
        request[context.principal_key] = principal
        check_query_params(request, route_handler, strict)  # syntax: the first of the handler's 400s
        return await handler(request)

    return authorize


def check_query_params(request: web.Request, route_handler: object, strict: bool) -> None:
    """Parameters the route does not read, or cannot read (issue 20 §10): a warning each, 400 under --strict."""
    if not request.query_string:
        return  # nothing to read (most requests)
    complaints = query_param_complaints(request.query, context.accepted_query_params(route_handler))
    if not complaints:
        return
    if strict:
        names = list(dict.fromkeys(name for name, _ in complaints))
        raise Problem(
            400,
            "Query parameters this route cannot use: " + "; ".join(text for _, text in complaints) + ".",
            extra={"invalid_params": names},
        )
    for _, text in complaints:
        context.warn(request, text)


def authenticate(request: web.Request) -> Principal:
    """Raw `sk-apik_…` key or `Bearer <token>` (api.md §3); 401 with WWW-Authenticate otherwise."""
    return credential(request, context.emulator(request), request.app[context.settings_key].strict)


def credential(
    request: web.Request, emulator: Emulator, strict: bool, principals: KeyPrincipals | None = None
) -> Principal:
    """`authenticate`, with the app's parts given (the auth middleware's, bound once)."""
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise Problem(401, "Missing Authorization header; send your API key as `Authorization: sk-apik_<id>.<secret>`.")
    store = emulator.store
    if header[: len(BEARER)].lower() == BEARER:
        token = header[len(BEARER) :].strip()
        if token.startswith("sk-apik_"):
            if strict:
                raise Problem(401, STRICT_BEARER_DETAIL)
            # Accepted by default, but the guides forbid it and the real API may not: say so (issue 20 §9).
            context.warn(request, BEARER_WARNING)
            principal = principals.of(store, token) if principals else store.authenticate_key(token)
        else:
            principal = emulator.authenticate_token(token)
    else:
        principal = principals.of(store, header) if principals else store.authenticate_key(header)
    if principal is None:
        raise Problem(401, "The credential is malformed, unknown or expired.")
    return principal


class KeyPrincipals:
    """The principal of each API key presented, kept with the stored key it was built from.

    `Store.authenticate_key` is a pure function of the token and the ApiKey stored under its id (frozen): while
    that same object is stored, the answer is the same. A key replaced (restore), dropped (reset) or never
    matched is looked up again. Only tokens that authenticated are kept, so a miss costs what it did.
    """

    LIMIT = 1024  # distinct valid tokens remembered (then forgotten all at once)

    def __init__(self) -> None:
        self._known: dict[str, tuple[ApiKey, Principal]] = {}

    def of(self, store: Store, token: str) -> Principal | None:
        known = self._known.get(token)
        if known is not None and store.keys.get(known[0].key_id) is known[0]:
            return known[1]
        found = store.authenticate_key(token)
        if found is not None:
            parsed = parse_api_key(token)
            key = store.keys.get(parsed[0]) if parsed else None
            if key is not None:
                if len(self._known) >= self.LIMIT:
                    self._known.clear()
                self._known[token] = (key, found)
        return found


# `--rate-limit N/s` -----------------------------------------------------------------------------------


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """A token bucket per credential (api.md §9): capacity N, refilled at N per wall second; an empty bucket
    answers 429 with `Retry-After`.

    Wall time, not the virtual clock: a frozen clock must not freeze the bucket (pipeline.md §1).
    """

    def __init__(self, per_second: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_second
        self.capacity = max(1.0, per_second)  # below 1/s a bucket still holds one request
        self.monotonic = monotonic
        self._buckets: dict[str, _Bucket] = {}

    def check(self, credential_id: str) -> None:
        now = self.monotonic()
        bucket = self._buckets.get(credential_id)
        if bucket is None:
            bucket = self._buckets[credential_id] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return
        wait = (1 - bucket.tokens) / self.rate
        raise Problem(
            429,
            f"Rate limit of {self.rate:g} requests per second exceeded for this credential; retry later.",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


rate_limiter_key = web.AppKey("rate_limiter_key", RateLimiter)
