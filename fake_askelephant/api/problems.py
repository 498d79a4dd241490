"""The one mapping from errors to `application/problem+json` responses (api.md §4)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from ..core import jsonutil
from ..core.errors import Conflict, DomainError, FieldError, Forbidden, InvalidRequest, NotFound, ValidationFailed

TYPE_BASE = "https://app.askelephant.ai/errors/"
SLUGS = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_content_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
}
WWW_AUTHENTICATE = 'Bearer realm="askelephant"'
PROBLEM_CONTENT_TYPE = "application/problem+json"


def slug_for(status: int) -> str:
    return SLUGS.get(status) or ("invalid_request" if status < 500 else "internal_error")


class Problem(Exception):
    """An error response ready to render; handlers and middlewares raise it."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Sequence[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        if status == 401:
            self.headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)

    def body(self, request_id: str) -> dict[str, Any]:
        slug = slug_for(self.status)
        body: dict[str, Any] = {
            "type": TYPE_BASE + slug,
            "title": slug.replace("_", " ").title(),
            "status": self.status,
            "detail": self.detail,
            "request_id": request_id,
        }
        body.update(self.extra)
        if self.errors is not None:
            body["errors"] = [e.as_dict() for e in self.errors]
        return body

    def response(self, request_id: str) -> web.Response:
        return web.Response(
            status=self.status,
            body=jsonutil.dumps(self.body(request_id)),
            content_type=PROBLEM_CONTENT_TYPE,
            headers=self.headers,
        )


def from_domain(exc: DomainError) -> Problem:
    if isinstance(exc, ValidationFailed):
        return Problem(422, str(exc), errors=exc.errors)
    if isinstance(exc, NotFound):
        return Problem(404, str(exc))
    if isinstance(exc, Forbidden):
        return Problem(403, str(exc), extra={"missing_scopes": exc.missing_scopes})
    if isinstance(exc, Conflict):
        return Problem(409, str(exc))
    if isinstance(exc, InvalidRequest):
        return Problem(400, str(exc))
    return Problem(500, "Internal error.")


def from_http_exception(exc: web.HTTPException) -> Problem:
    """aiohttp's own errors (unknown route, wrong method, body too large) in our format."""
    headers: dict[str, str] = {}
    if exc.status == 404:
        detail = "No such route or resource."
    elif exc.status == 405 and isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        headers["Allow"] = allowed
        detail = f"Method {exc.method} is not allowed here; allowed: {allowed}."
    elif exc.status == 413:
        detail = "Request body exceeds the 8 MiB limit."
    else:
        detail = exc.reason or "Request failed."
    return Problem(exc.status, detail, headers=headers)


def validation_failed(errors: Sequence[FieldError]) -> Problem:
    return Problem(422, "The request contains invalid fields.", errors=errors)
