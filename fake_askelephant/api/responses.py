"""JSON bodies, request-body parsing and conditional GETs shared by handlers."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import hdrs, web

from ..core import jsonutil
from .problems import Problem
from .validation import validate

if TYPE_CHECKING:
    from pydantic import BaseModel

JSON_TYPES = ("application/json",)
JSON_HEADER: dict[str, str] = {hdrs.CONTENT_TYPE: "application/json"}  # istr keys: no case-folding per response


def json_response(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # The header itself, not `content_type=`: the same header, after the others, for a fifth less of the Response's
    # construction (every API answer).
    with_type = JSON_HEADER if headers is None else {**headers, **JSON_HEADER}
    return web.Response(status=status, body=jsonutil.dumps(data), headers=with_type)


T = TypeVar("T")
M = TypeVar("M", bound="BaseModel")


def unpaged_list(items: Iterable[Any]) -> web.Response:
    """A complete collection in one page (small admin lists)."""
    return json_response({"object": "list", "data": list(items), "has_more": False, "next_cursor": None})


def etag_for(body: bytes) -> str:
    return f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison over a list of tags, `*` matching anything (RFC 9110 §13.1.2)."""
    opaque = etag.removeprefix("W/")
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == opaque:
            return True
    return False


def versioned_json(request: web.Request, version: str, build: Callable[[], Any]) -> web.Response:
    """`conditional_json` for a read whose version is known without building it (admin listings, issue 22): 304
    while If-None-Match holds the version, so a poll of unchanged state costs no dump."""
    etag = f'W/"{version}"'
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and _etag_matches(if_none_match, etag):
        return web.Response(status=304, headers={"ETag": etag})
    response = json_response(build())
    response.headers["ETag"] = etag
    return response


def conditional_json(request: web.Request, data: Any) -> web.Response:
    """200 with an ETag, or 304 without a body when If-None-Match already holds it."""
    body = jsonutil.dumps(data)
    etag = etag_for(body)
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and _etag_matches(if_none_match, etag):
        return web.Response(status=304, headers={"ETag": etag})
    return web.Response(body=body, content_type="application/json", headers={"ETag": etag})


async def read_json_object(request: web.Request, *, check_content_type: bool = True) -> dict[str, Any]:
    """The request body as a JSON object: 415 for a non-JSON type, 413 over the limit, 400 when malformed.

    The control plane passes check_content_type=False so `curl -d '{"seconds":60}'` (form-encoded by
    default) just works; the public API keeps the documented 415.
    """
    content_type = request.headers.get("Content-Type")
    if check_content_type and content_type is not None:
        mime = content_type.split(";")[0].strip().lower()
        if mime not in JSON_TYPES and not mime.endswith("+json"):
            raise Problem(415, f"Content-Type must be application/json, not {mime or 'empty'}.")
    raw = await request.read()
    if not raw.strip():
        raise Problem(400, "Request body is empty; send a JSON object.")
    try:
        data = jsonutil.loads(raw)
    except jsonutil.JSONDecodeError as exc:
        raise Problem(400, f"Request body is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise Problem(400, "Request body must be a JSON object.")
    return data


async def read_body(request: web.Request, model: type[M], *, check_content_type: bool = True) -> M:
    """The body as `model`: the read_json_object checks (415, 413, 400), then every bad field in one 422."""
    return validate(model, await read_json_object(request, check_content_type=check_content_type))
