"""Assertions shared by the API suites; each failure message names the request and what the spec says."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from contract_tests.http import HttpResponse
from contract_tests.schemas import validator
from contract_tests.target import Target

ERROR_TYPE_PREFIX = "https://app.askelephant.ai/errors/"


def profile(target: Target) -> str:
    """Schema profile: the emulator is held to its own choices, the real API to the docs only."""
    return "emulator" if target.is_emulator else "docs"


def matches_schema(target: Target, name: str, value: Any, what: str) -> None:
    """Assert ``value`` validates against schema ``name``, listing every violation."""
    errors = sorted(validator(name, profile(target)).iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  at /{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:10]]
        excerpt = json.dumps(value, ensure_ascii=False)[:600]
        raise AssertionError(f"{what} does not match schema {name!r}:\n" + "\n".join(lines) + f"\n  body: {excerpt}")


def choice(target: Target, condition: bool, message: str) -> None:
    """Assert an emulator-choice rule: enforced against the emulator, not against the real API."""
    if target.is_emulator:
        assert condition, f"{message} (emulator choice)"


def api_headers(target: Target, resp: HttpResponse) -> None:
    """Every ``/api`` response: ``X-Api-Version`` (docs; value 2 emulator choice), ``X-Request-Id``."""
    assert "X-Api-Version" in resp.headers, f"{resp.describe()}: no X-Api-Version header (api.md §2)"
    choice(target, resp.headers["X-Api-Version"] == "2", f"{resp.describe()}: X-Api-Version is not 2")
    choice(
        target,
        resp.headers.get("X-Request-Id", "").startswith("rid_"),
        f"{resp.describe()}: X-Request-Id not rid_…",
    )


def status(resp: HttpResponse, *expected: int) -> None:
    assert resp.status in expected, (
        f"{resp.describe()}: expected {' or '.join(map(str, expected))}; body: {resp.body[:400]!r}"
    )


def json_body(target: Target, resp: HttpResponse, schema: str) -> Any:
    """Assert a JSON success response matching ``schema``; return the parsed body."""
    api_headers(target, resp)
    assert resp.media_type == "application/json", f"{resp.describe()}: Content-Type {resp.media_type!r}, want JSON"
    body = resp.json()
    matches_schema(target, schema, body, resp.describe())
    return body


def problem(
    target: Target,
    resp: HttpResponse,
    status_code: int | Iterable[int],
    *,
    field: str | None = None,
    also: Iterable[str] = (),
    codes: Iterable[str] = (),
) -> dict[str, Any]:
    """Assert an ``application/problem+json`` error (api.md §4) and return it.

    Args:
        status_code: the allowed status(es).
        field: a field that some ``errors[]`` entry must name (exactly, or as the prefix of a path
            like ``participants[1].email``); nested paths are emulator choice, the top-level name is not.
        also: alternative field names that satisfy ``field``.
        codes: acceptable ``code`` values for that entry (emulator choice).
    """
    allowed = {status_code} if isinstance(status_code, int) else set(status_code)
    status(resp, *allowed)
    api_headers(target, resp)
    assert resp.media_type == "application/problem+json", (
        f"{resp.describe()}: Content-Type {resp.media_type!r}, want application/problem+json (api.md §4)"
    )
    body: dict[str, Any] = resp.json()
    matches_schema(target, "problem", body, resp.describe())
    assert body["status"] == resp.status, f"{resp.describe()}: body status {body['status']} differs from HTTP status"
    choice(
        target,
        body["request_id"] == resp.headers.get("X-Request-Id"),
        f"{resp.describe()}: request_id != X-Request-Id",
    )
    if field is not None:
        errors = body.get("errors") or []
        wanted = [field, *also]
        named = [e for e in errors if any(_names(e.get("field", ""), w, exact=target.is_emulator) for w in wanted)]
        assert named, f"{resp.describe()}: no errors[] entry names {field!r}; errors = {errors}"
        codes = set(codes)
        if codes:
            choice(
                target,
                any(e.get("code") in codes for e in named),
                f"{resp.describe()}: errors[] for {field!r} has code(s) {[e.get('code') for e in named]}, "
                f"want one of {sorted(codes)}",
            )
    return body


def _names(reported: str, wanted: str, *, exact: bool) -> bool:
    """``reported`` names ``wanted`` itself or a path below it; without ``exact``, top-level names suffice."""
    if not exact:
        wanted = wanted.split(".")[0].split("[")[0]
    return reported == wanted or reported.startswith((wanted + ".", wanted + "["))
