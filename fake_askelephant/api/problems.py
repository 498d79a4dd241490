"""The one mapping from errors to `application/problem+json` responses (api.md §4), and the edge middleware
that applies it: every response gets a request id, every error raised inside it becomes problem+json."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import hdrs, web
from aiohttp.http_exceptions import ContentEncodingError, ContentLengthError, TransferEncodingError
from aiohttp.typedefs import Handler, Middleware
from multidict import istr

from ..config import Settings
from ..core import jsonutil
from ..core.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    InvalidRequest,
    NotFound,
    Unavailable,
    ValidationFailed,
)
from ..emulator import Emulator
from . import context

log = logging.getLogger("fake_askelephant.api")

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
    421: "misdirected_request",
    422: "validation_failed",
    429: "rate_limited",
    499: "client_closed_request",
    500: "internal_error",
}
CLIENT_CLOSED = 499  # journal only: the client went away mid-request (nginx's code), no answer reaches it
WWW_AUTHENTICATE = 'Bearer realm="askelephant"'
PROBLEM_CONTENT_TYPE = "application/problem+json"
API_PREFIX = "/api/"
API_VERSION = "2"


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
        slug: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug or slug_for(status)  # a slug of its own (503 unavailable) beats the status's
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        if status == 401:
            self.headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)

    def body(self, request_id: str) -> dict[str, Any]:
        slug = self.slug
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
    if isinstance(exc, Unavailable):
        # the same slug as a state write that cannot be made durable: "not now, retry", never "a bug"
        return Problem(503, str(exc), headers={"Retry-After": str(exc.retry_after_s)}, slug="unavailable")
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


# The edge middleware ----------------------------------------------------------------------------------


def edge_middleware(emulator: Emulator) -> Middleware:
    """The app's emulator bound once (request ids are drawn from it on every request)."""

    @web.middleware
    async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Every response gets X-Request-Id (and X-Api-Version under /api); every error becomes problem+json."""
        request_id = emulator.request_ids.new("rid")
        request[context.request_id_key] = request_id
        try:
            response = await handler(request)
        except Exception as exc:
            response = error_response(request, exc)
        stamp_headers(request, response, request_id)
        return response

    return edge


def error_response(request: web.Request, exc: Exception) -> web.Response:
    """The problem+json response for any exception a handler raised (unexpected ones are logged as bugs)."""
    request_id = context.request_id(request)
    if isinstance(exc, Problem):
        return exc.response(request_id)
    if isinstance(exc, DomainError):
        return from_domain(exc).response(request_id)
    if isinstance(exc, web.HTTPException):
        return from_http_exception(exc).response(request_id)
    if client_gone(request) and isinstance(exc, ConnectionError | web.RequestPayloadError):
        return Problem(CLIENT_CLOSED, "The client closed the connection before the request was read.").response(
            request_id
        )
    if isinstance(exc, web.RequestPayloadError):
        return Problem(400, payload_error_detail(exc)).response(request_id)
    log.error("unhandled error in %s %s (request %s)", request.method, request.path, request_id, exc_info=exc)
    return Problem(500, "Internal error; this is a bug in fake-askelephant.").response(request_id)


def client_gone(request: web.Request) -> bool:
    """The connection is closed or closing: nobody will read an answer."""
    transport = request.transport
    return transport is None or transport.is_closing()


def payload_error_detail(exc: web.RequestPayloadError) -> str:
    """A body that could not be read, named by kind; never the bytes (aiohttp's messages quote them)."""
    cause = exc.__cause__
    if isinstance(cause, ContentEncodingError):
        return "The request body does not decode with its Content-Encoding."
    if isinstance(cause, TransferEncodingError):
        return "The chunked request body is malformed or ends early."
    if isinstance(cause, ContentLengthError):
        return "The request body ended before its Content-Length."
    return "The request body could not be read."


# Header names as istr: a plain str key is case-folded by the multidict on every set and lookup (every response).
X_REQUEST_ID = istr("X-Request-Id")
X_API_VERSION = istr("X-Api-Version")


def stamp_headers(request: web.Request, response: web.StreamResponse, request_id: str | None = None) -> None:
    """Set before a response is prepared; the fault middleware calls it for bodies it sends itself."""
    headers = response.headers
    headers[X_REQUEST_ID] = context.request_id(request) if request_id is None else request_id
    if request.path.startswith(API_PREFIX):
        headers[X_API_VERSION] = API_VERSION
        # RFC 9111 §5.5 Warning, code 299 (persistent, miscellaneous), agent "-": one header per warning.
        warnings = context.peek(request, context.warnings_key)
        if warnings or hdrs.WARNING in headers:
            headers.popall(hdrs.WARNING, None)
            for text in warnings or ():
                headers.add(hdrs.WARNING, f'299 - "{text}"')


def setup(app: web.Application, settings: Settings) -> None:
    """The edge middleware (create_app places it: inside the journal, outside the faults)."""
    app.middlewares.append(edge_middleware(app[context.emulator_key]))
