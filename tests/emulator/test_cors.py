"""`--cors-origin` (issue 21): preflights on /api answered with what the route serves, actual responses exposing
the headers a browser client reads; off by default; never on /__admin. The browser's own verdict is
tests/browser/test_cors_browser.py."""

from __future__ import annotations

from typing import Any

import pytest

from fake_askelephant.cli import build_parser
from fake_askelephant.config import ConfigError, Settings, load_settings
from tests.conftest import DEFAULT_KEY, frozen_settings, seed_call

APP = "http://localhost:5173"
PREFLIGHT = {"Origin": APP, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}


async def test_off_by_default_a_preflight_is_refused(make_api: Any) -> None:
    api = await make_api()
    resp = await api.client.options("/api/v2/engagements", headers=PREFLIGHT)
    assert resp.status == 405 and "Access-Control-Allow-Origin" not in resp.headers


async def test_a_preflight_names_the_routes_methods_and_the_headers_the_api_reads(make_api: Any) -> None:
    api = await make_api(frozen_settings(cors_origins=(APP,)))
    resp = await api.client.options("/api/v2/engagements", headers=PREFLIGHT)
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == APP
    assert set(resp.headers["Access-Control-Allow-Methods"].split(", ")) == {"GET", "POST"}
    allowed = {h.lower() for h in resp.headers["Access-Control-Allow-Headers"].split(", ")}
    assert {"authorization", "content-type", "if-none-match", "idempotency-key"} <= allowed
    assert resp.headers["X-Request-Id"].startswith("rid_")
    tags = await api.client.options(
        "/api/v2/tags/tag_1", headers={**PREFLIGHT, "Access-Control-Request-Method": "PATCH"}
    )
    assert set(tags.headers["Access-Control-Allow-Methods"].split(", ")) == {"PATCH", "DELETE"}


async def test_actual_responses_expose_what_a_client_reads_errors_included(make_api: Any) -> None:
    api = await make_api(frozen_settings(cors_origins=(APP,)))
    created = await api.call("POST", "/api/v2/engagements", json=seed_call(), headers={"Origin": APP})
    assert created.status == 201 and created.headers["Access-Control-Allow-Origin"] == APP
    exposed = set(created.headers["Access-Control-Expose-Headers"].split(", "))
    assert {"X-Request-Id", "Location", "ETag", "Retry-After"} <= exposed
    refused = await api.call("GET", "/api/v2/engagements", key=None, headers={"Origin": APP})
    assert refused.status == 401 and refused.headers["Access-Control-Allow-Origin"] == APP


async def test_other_origins_get_nothing_and_star_allows_any(make_api: Any) -> None:
    api = await make_api(frozen_settings(cors_origins=(APP,)))
    other = {**PREFLIGHT, "Origin": "http://evil.example"}
    resp = await api.client.options("/api/v2/engagements", headers=other)
    assert resp.status == 405 and "Access-Control-Allow-Origin" not in resp.headers
    anyone = await make_api(frozen_settings(cors_origins=("*",)))
    resp = await anyone.client.options("/api/v2/engagements", headers=other)
    assert resp.status == 204 and resp.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/__admin/clock/advance", "/__admin/webhook-endpoints", "/__admin/reset"])
async def test_never_on_the_control_plane(make_api: Any, path: str) -> None:
    api = await make_api(frozen_settings(cors_origins=("*",)))
    resp = await api.client.options(path, headers=PREFLIGHT)
    assert "Access-Control-Allow-Origin" not in resp.headers
    resp = await api.client.post(path, json={"seconds": 60}, headers={"Origin": APP})
    assert resp.status == 403 and "Access-Control-Allow-Origin" not in resp.headers


def parse(argv: list[str], env: dict[str, str] | None = None) -> Settings:
    return load_settings(build_parser().parse_args(["serve", *argv]), env or {})


def test_the_flag_is_repeatable_and_checked() -> None:
    settings = parse(["--cors-origin", APP, "--cors-origin", "http://127.0.0.1:3000/"])
    assert settings.cors_origins == (APP, "http://127.0.0.1:3000")
    assert parse([], {"FAKE_ASKELEPHANT_CORS_ORIGIN": "*"}).cors_origins == ("*",)
    with pytest.raises(ConfigError, match="origin"):
        parse(["--cors-origin", "localhost:5173/app"])


async def test_the_api_key_still_decides(make_api: Any) -> None:
    api = await make_api(frozen_settings(cors_origins=(APP,)))
    resp = await api.call("GET", "/api/v2/engagements", key=DEFAULT_KEY, headers={"Origin": APP})
    assert resp.status == 200
