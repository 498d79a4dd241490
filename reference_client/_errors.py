"""Exceptions raised by the reference client, one class per documented problem status.

Hierarchy::

    AskElephantError
    ├── TransportError          no usable HTTP answer (connection, timeout, truncated body) after retries
    └── ApiError                the API answered with a problem+json error (``.problem``, ``.status``)
        ├── InvalidRequest      400  malformed JSON, bad cursor, unparseable filter
        ├── Unauthorized        401  missing/unknown key, or ``Bearer`` sent before an API key
        ├── Forbidden           403  missing scope (``.missing_scopes`` when the server names them)
        ├── NotFound            404  unknown or foreign id, private engagement, timeline not ready
        ├── Conflict            409  contact/company uniqueness (never on engagement create)
        ├── ValidationFailed    422  field rules (``.errors``: typed ``FieldErrorOut`` list)
        ├── RateLimited         429  ``.retry_after`` seconds (None when the header is absent)
        └── ServerError         5xx

Only ``RateLimited``, ``ServerError`` and ``TransportError`` are ever retried (dialer-flow.md §8).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pydantic

from reference_client._models import FieldErrorOut, ProblemOut


class AskElephantError(Exception):
    """Base class of everything this client raises on purpose."""


class TransportError(AskElephantError):
    """No usable HTTP response: connection refused/reset, timeout or a cut-off body.

    Raised only after the retry policy is exhausted; ``attempts`` says how many were made.
    """

    def __init__(self, message: str, *, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


class ApiError(AskElephantError):
    """The API answered with an error status; ``problem`` is the parsed problem+json body."""

    def __init__(self, problem: ProblemOut, *, attempts: int = 1) -> None:
        super().__init__(f"{problem.status} {problem.title}: {problem.detail}")
        self.problem = problem
        self.attempts = attempts

    @property
    def status(self) -> int:
        return self.problem.status

    @property
    def request_id(self) -> str | None:
        return self.problem.request_id


class InvalidRequest(ApiError):
    """400: the request could not be parsed; fix it, don't resend unchanged."""


class Unauthorized(ApiError):
    """401: the key is missing, malformed, unknown or expired (or sent with ``Bearer``)."""


class Forbidden(ApiError):
    """403: the key lacks a scope; the server lists it in ``missing_scopes`` when it can."""

    @property
    def missing_scopes(self) -> list[str]:
        extra = self.problem.model_extra or {}
        scopes = extra.get("missing_scopes")
        return [str(s) for s in scopes] if isinstance(scopes, list) else []


class NotFound(ApiError):
    """404: unknown or foreign id, a private engagement without scope, or a timeline not ready yet."""


class Conflict(ApiError):
    """409: uniqueness conflict on contacts or companies."""


class ValidationFailed(ApiError):
    """422: one or more fields broke a rule; ``errors`` lists them in request order."""

    @property
    def errors(self) -> list[FieldErrorOut]:
        return list(self.problem.errors or [])


class RateLimited(ApiError):
    """429: slow down; ``retry_after`` is the server's ``Retry-After`` in seconds, if given."""

    def __init__(self, problem: ProblemOut, *, retry_after: float | None, attempts: int = 1) -> None:
        super().__init__(problem, attempts=attempts)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx: the server failed; safe to retry because ``external_id`` makes creates idempotent."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: ValidationFailed,
}


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; None if unusable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def problem_from_body(status: int, body: bytes, *, reason: str = "") -> ProblemOut:
    """Parse a problem+json body; proxies and load balancers send HTML, so fall back to a synthetic one."""
    try:
        problem = ProblemOut.model_validate_json(body)
    except pydantic.ValidationError:
        snippet = body[:200].decode("utf-8", "replace").strip()
        return ProblemOut(
            type="about:blank",
            title=reason or f"HTTP {status}",
            status=status,
            detail=snippet or reason or f"HTTP {status}",
        )
    if problem.status != status:
        # The status line is authoritative; a body echoing another status must not re-route the error.
        problem = problem.model_copy(update={"status": status})
    return problem


def error_from_response(
    status: int, body: bytes, *, retry_after: str | None = None, reason: str = "", attempts: int = 1
) -> ApiError:
    """Build the typed exception for an error response (``status`` >= 400)."""
    problem = problem_from_body(status, body, reason=reason)
    if status == 429:
        return RateLimited(problem, retry_after=parse_retry_after(retry_after), attempts=attempts)
    if status >= 500:
        return ServerError(problem, attempts=attempts)
    return _BY_STATUS.get(status, ApiError)(problem, attempts=attempts)


def describe(error: Any) -> str:
    """One human line for an error, including field errors and the request id when present."""
    if isinstance(error, ValidationFailed) and error.errors:
        fields = "; ".join(f"{e.field}: {e.code} ({e.message})" for e in error.errors)
        text = f"{error} [{fields}]"
    else:
        text = str(error)
    if isinstance(error, ApiError) and error.request_id:
        text += f" (request_id {error.request_id})"
    return text
