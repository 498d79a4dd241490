"""The API under test: base URL, mode (emulator or real), key, and the few admin calls the suites may make.

Real-API mode is safe by construction: :class:`ApiClient` refuses every request other than reads and
``POST /v2/engagements`` whose ``external_id`` starts with ``contract-test:``, and :class:`Target`
refuses all ``/__admin`` calls. The real key comes from ``ASKELEPHANT_API_KEY`` only.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from contract_tests.http import HttpClient, HttpResponse, LoopThread, Params, RequestSpec

Mode = Literal["emulator", "real"]

API_KEY_ENV = "ASKELEPHANT_API_KEY"
EMULATOR_DEFAULT_KEY = "sk-apik_local.fakeaskelephant"
EXTERNAL_ID_PREFIX = "contract-test:"
# Real mode reuses this many external_ids, so reruns replay instead of piling up engagements.
REAL_POOL_SIZE = 8
REAL_RATE_LIMIT_RETRIES = 3
_MISSING = object()

__all__ = [
    "API_KEY_ENV",
    "EMULATOR_DEFAULT_KEY",
    "EXTERNAL_ID_PREFIX",
    "AdminUnavailable",
    "ApiClient",
    "RealApiRefused",
    "Target",
    "TargetError",
    "Workspace",
]


class TargetError(Exception):
    """The target cannot be used as configured (no key, unreachable admin, ...)."""


class AdminUnavailable(TargetError):
    """A check needs ``/__admin`` (clock, keys, webhooks) and the target is the real API."""


class RealApiRefused(TargetError):
    """A request that could change real data was refused in real-API mode."""


def api_base_url(url: str) -> str:
    """``--target-url`` either way: ``http://h:p`` or ``http://h:p/api`` -> ``http://h:p/api``.

    ``fake-askelephant scenario run --target-url`` takes the same two forms (the emulator's root, or its API base).
    """
    url = url.rstrip("/")
    return url if url.endswith("/api") else url + "/api"


def admin_url_for(base_url: str) -> str:
    """``http://h:p/api`` -> ``http://h:p/__admin`` (the emulator's control plane sits beside ``/api``)."""
    root = base_url.rstrip("/").removesuffix("/api")
    return root + "/__admin"


def is_safe_real_request(method: str, path: str, json_body: Any, body: bytes | None = None) -> bool:
    """Reads; engagement creates carrying a ``contract-test:`` external_id (idempotent by the docs);
    and create bodies that are no JSON object at all, which nothing can store."""
    if method in ("GET", "HEAD"):
        return True
    if method != "POST" or path != "/v2/engagements":
        return False
    if body is not None:
        try:
            json_body = json.loads(body)
        except ValueError:
            return True
        if not isinstance(json_body, Mapping):
            return True
    if isinstance(json_body, Mapping):
        external_id = json_body.get("external_id")
        return isinstance(external_id, str) and external_id.startswith(EXTERNAL_ID_PREFIX)
    return False


class ApiClient:
    """Raw HTTP to ``{base_url}{path}`` with one API key, sent raw in ``Authorization`` (api.md §3)."""

    def __init__(
        self,
        http: HttpClient,
        base_url: str,
        api_key: str | None,
        *,
        real: bool,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self._real = real
        self._sleep = sleep

    def spec(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json_body: Any = _MISSING,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
    ) -> RequestSpec:
        """Build (and, in real mode, vet) a request without sending it.

        Raises:
            RealApiRefused: real mode and the request is not a read or a prefixed create.
        """
        if self._real and not is_safe_real_request(method, path, None if json_body is _MISSING else json_body, body):
            raise RealApiRefused(f"refusing {method} {path} against the real API")
        merged = dict(headers or {})
        if auth and self.api_key is not None:
            merged.setdefault("Authorization", self.api_key)
        has_json = json_body is not _MISSING
        return RequestSpec(
            method, self.base_url + path, merged, params, None if not has_json else json_body, has_json, body
        )

    def request(self, method: str, path: str, **kwargs: Any) -> HttpResponse:
        """Send ``method path``; keyword arguments as :meth:`spec`.

        Against the real API a 429 is waited out (``Retry-After``, at most 30 s, 3 times): the docs
        publish no limits, and a throttled run says nothing about the contract.
        """
        spec = self.spec(method, path, **kwargs)
        resp = self.http.send(spec)
        for _ in range(REAL_RATE_LIMIT_RETRIES if self._real else 0):
            if resp.status != 429:
                break
            self._sleep(_retry_after_seconds(resp.headers.get("Retry-After")))
            resp = self.http.send(spec)
        return resp

    def get(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json_body: Any = _MISSING, **kwargs: Any) -> HttpResponse:
        return self.request("POST", path, json_body=json_body, **kwargs)

    def create_engagement(self, payload: Any) -> HttpResponse:
        """``POST /v2/engagements`` with ``payload`` as the JSON body."""
        return self.post("/v2/engagements", payload)


@dataclass(frozen=True)
class Workspace:
    """A workspace the suite may use, with a client holding a key in it."""

    workspace_id: str
    client: ApiClient
    fresh: bool


@dataclass
class Target:
    """An AskElephant-compatible API the suites run against."""

    base_url: str
    mode: Mode
    http: HttpClient
    api: ApiClient
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    _counter: int = 0
    _frozen: bool | None = None

    @classmethod
    def open(
        cls,
        base_url: str,
        *,
        mode: Literal["auto", "emulator", "real"] = "auto",
        api_key: str | None = None,
        loop: LoopThread,
    ) -> Target:
        """Connect to ``base_url``; ``auto`` asks ``/__admin/health`` whether it is the emulator.

        Args:
            api_key: emulator mode only; else ``ASKELEPHANT_API_KEY`` or the emulator's default key.

        Raises:
            TargetError: real mode without ``ASKELEPHANT_API_KEY``, an ``api_key`` argument in real mode,
                or ``emulator`` forced while ``/__admin/health`` does not answer.
        """
        base_url = api_base_url(base_url)
        http = HttpClient(loop)
        try:
            detected: Mode = (
                "emulator" if mode == "emulator" or (mode == "auto" and _has_admin(http, base_url)) else "real"
            )
            if mode == "emulator" and not _has_admin(http, base_url):
                raise TargetError(
                    f"{admin_url_for(base_url)}/health does not answer: is this the emulator?"
                    + (_emulator_elsewhere(http, base_url) or "")
                )
            if detected == "real" and (elsewhere := _emulator_elsewhere(http, base_url)):
                # Not the real API either: an emulator serves this host, at another path.
                raise TargetError(f"{admin_url_for(base_url)}/health does not answer{elsewhere}")
            if detected == "real":
                if api_key is not None:
                    raise TargetError(f"against the real API the key comes from {API_KEY_ENV} only")
                key = os.environ.get(API_KEY_ENV)
                if not key:
                    raise TargetError(f"set {API_KEY_ENV} to run against the real API at {base_url}")
            else:
                key = api_key or os.environ.get(API_KEY_ENV) or EMULATOR_DEFAULT_KEY
        except BaseException:
            http.close()
            raise
        api = ApiClient(http, base_url, key, real=detected == "real")
        return cls(base_url.rstrip("/"), detected, http, api)

    @property
    def is_emulator(self) -> bool:
        return self.mode == "emulator"

    def close(self) -> None:
        self.http.close()

    # --- ids -------------------------------------------------------------------------------------
    def fresh_external_id(self) -> str:
        """An external_id never used before (emulator), or a new one for a create expected to be rejected."""
        self._counter += 1
        return f"{EXTERNAL_ID_PREFIX}{self.run_id}:{self._counter}:{uuid.uuid4().hex[:8]}"

    def creatable_external_id(self) -> tuple[str, bool]:
        """``(external_id, is_fresh)`` for a create expected to succeed.

        Emulator: always fresh. Real API: one of a small fixed pool, so reruns replay (fresh = False,
        the first answer may be 200).
        """
        if self.is_emulator:
            return self.fresh_external_id(), True
        self._counter += 1
        return f"{EXTERNAL_ID_PREFIX}pool:{self._counter % REAL_POOL_SIZE}", False

    # --- admin (emulator only) --------------------------------------------------------------------
    def admin(self, method: str, path: str, json_body: Any = _MISSING, params: Params | None = None) -> HttpResponse:
        """Call ``/__admin{path}``; raises :class:`AdminUnavailable` against the real API."""
        if not self.is_emulator:
            raise AdminUnavailable(f"{method} /__admin{path} needs the emulator")
        token = os.environ.get("FAKE_ASKELEPHANT_ADMIN_TOKEN")  # an emulator locked with --admin-token
        spec = RequestSpec(
            method,
            admin_url_for(self.base_url) + path,
            {"X-Admin-Token": token} if token else {},
            params,
            None if json_body is _MISSING else json_body,
            json_body is not _MISSING,
        )
        return self.http.send(spec)

    def admin_json(self, method: str, path: str, json_body: Any = _MISSING, *, expect: int = 200) -> Any:
        """Admin call that must answer ``expect``; returns its JSON."""
        resp = self.admin(method, path, json_body)
        if resp.status != expect:
            raise TargetError(f"{resp.describe()} (expected {expect}): {resp.body[:300]!r}")
        return resp.json() if resp.body else None

    def advance(self, seconds: float) -> None:
        """Move the emulator's virtual clock; runs every timer that falls due."""
        self.admin_json("POST", "/clock/advance", {"seconds": seconds})

    def settle(self) -> None:
        """On a running clock, run an hour ahead so every pipeline stage is done before a list walk: a record the
        pipeline updates mid-walk may legitimately jump the cursor (api.md §8). A frozen clock moves only when a
        check says so, so it is left alone."""
        if not self.clock_is_frozen():
            self.advance(3600)

    def clock_is_frozen(self) -> bool:
        """True when virtual time moves only by :meth:`advance` (``time_scale`` 0); always False for real."""
        if not self.is_emulator:
            return False
        if self._frozen is None:
            # No admin route changes time_scale at run time, so one look is enough.
            self._frozen = float(self.admin_json("GET", "/clock")["time_scale"]) == 0.0
        return self._frozen

    def new_workspace(self, scopes: tuple[str, ...] = ("workspace:admin",)) -> Workspace:
        """A fresh, empty workspace with a key holding ``scopes``."""
        workspace_id = f"wrks_ct{self.run_id}{uuid.uuid4().hex[:12]}"
        minted = self.admin_json(
            "POST", "/api-keys", {"scopes": list(scopes), "workspace_id": workspace_id}, expect=201
        )
        return Workspace(workspace_id, ApiClient(self.http, self.base_url, minted["key"], real=False), True)

    def mint_client(self, workspace_id: str, scopes: tuple[str, ...], user_email: str | None = None) -> ApiClient:
        """Another key in an existing workspace; ``user_email`` gives it a user of its own (else the workspace's
        owner, who owns what the workspace's first key creates)."""
        body: dict[str, Any] = {"scopes": list(scopes), "workspace_id": workspace_id}
        if user_email is not None:
            body["user"] = {"email": user_email}
        minted = self.admin_json("POST", "/api-keys", body, expect=201)
        return ApiClient(self.http, self.base_url, minted["key"], real=False)

    def default_workspace(self) -> Workspace:
        """The key's own workspace (shared with whatever else lives there)."""
        return Workspace("", self.api, False)


def _retry_after_seconds(value: str | None) -> float:
    """``Retry-After`` in whole seconds, clamped to 1..30; an HTTP-date or garbage counts as 1."""
    try:
        return min(30.0, max(1.0, float(value or 1)))
    except ValueError:
        return 1.0


def _emulator_elsewhere(http: HttpClient, base_url: str) -> str | None:
    """The hint when ``base_url`` has a path of its own (``…/api/v2``) and the emulator answers at the host's root.

    Only then: a target at ``https://host/api`` or ``https://host`` gets no request beyond the mode probe."""
    parts = urlsplit(base_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if base_url in (origin + "/api", origin) or not _has_admin(http, origin + "/api"):
        return None
    return f"; this host's emulator answers at {origin}: give its root {origin} or its API base {origin}/api"


def _has_admin(http: HttpClient, base_url: str) -> bool:
    try:
        resp = http.send(RequestSpec("GET", admin_url_for(base_url) + "/health"))
    except (OSError, TimeoutError) as exc:
        raise TargetError(f"cannot reach {base_url}: {exc}") from exc
    if resp.status != 200 or resp.media_type != "application/json":
        return False
    body = resp.json()
    return isinstance(body, dict) and body.get("status") == "ok"
