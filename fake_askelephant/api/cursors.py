"""List cursors that carry their query (api.md §8; issue 20 §1).

The docs fetch the next page with only `limit` and `cursor`, and `next_cursor` "continues the current
traversal": a cursor stands for its whole query. So the token holds, signed:

- the list it was issued for (workspace and path: another list's cursor is 400, never that list's data);
- every query parameter of the first request except `limit` and `cursor` (search, filters, order, expand);
- the position after the last record of its page (updated_at, id).

A request with a cursor runs the cursor's query with the request's `limit`. Parameters resent alongside it must
have the values they had (an explicit `order_by=updated_at:desc` equals its default); any other → 400 naming
them. The token is `base64url(JSON) "." base64url(HMAC-SHA256)[:16 bytes]`: opaque to clients and
tamper-evident (an edited token is 400). The key derives from the seed, which a state file keeps, so cursors
survive a restart with `--state-file` (emulator choice).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from aiohttp import web
from multidict import MultiDict, MultiDictProxy, MultiMapping

from ..core import jsonutil
from ..core.paging import DEFAULT_ORDER, Page, Position
from ..core.records import dataclass
from . import context
from .problems import Problem
from .queries import once
from .responses import json_response

T = TypeVar("T")
UNBOUND = ("limit", "cursor")  # per page, not part of the query
DEFAULTS = {"order_by": DEFAULT_ORDER}  # resending a default is resending the same query
VERSION = 1
_MAC_BYTES = 16
INVALID = "cursor is not a valid next_cursor from this API."

Query = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CursorCodec:
    key: bytes

    def encode(self, scope: str, query: Query, position: Position) -> str:
        payload = jsonutil.dumps({"v": VERSION, "s": scope, "q": [list(p) for p in query], "p": list(position)})
        body = _b64(payload)
        return f"{body}.{_b64(self._mac(body))}"

    def decode(self, token: str, scope: str) -> tuple[Query, Position]:
        """The cursor's query and position; 400 when malformed, edited, or issued for another list."""
        body, dot, mac = token.partition(".")
        try:
            if not dot or not hmac.compare_digest(_unb64(mac), self._mac(body)):
                raise ValueError("bad signature")
            data = jsonutil.loads(_unb64(body))
            if data["v"] != VERSION:
                raise ValueError("version")
            query = tuple((str(k), str(v)) for k, v in data["q"])
            updated_at, record_id = data["p"]
            position = (int(updated_at), str(record_id))
            issued_for = str(data["s"])
        except (ValueError, KeyError, TypeError, binascii.Error, jsonutil.JSONDecodeError) as exc:
            raise Problem(400, INVALID) from exc
        if issued_for != scope:
            raise Problem(400, "cursor was issued for another list; start this list without a cursor.")
        return query, position

    def _mac(self, body: str) -> bytes:
        return hmac.new(self.key, body.encode("ascii"), hashlib.sha256).digest()[:_MAC_BYTES]


@cache
def codec_for(seed: int) -> CursorCodec:
    return CursorCodec(hashlib.sha256(f"fake-askelephant:list-cursor:{seed}".encode()).digest())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or any(c.isspace() for c in text):
        raise ValueError("empty")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class ListWalk:
    """One request's view of a list walk: the query to run, where to start, and how to answer."""

    codec: CursorCodec
    scope: str
    query: MultiMapping[str]  # what the route parses: the cursor's query (+ this request's limit), else the request's
    bound: Query  # what the next cursor carries
    after: Position | None

    @classmethod
    def start(cls, request: web.Request, *, workspace_id: str = "") -> ListWalk:
        """Check the cursor (if any) against the request; `workspace_id` "" for lists outside a workspace."""
        once(request.query)  # a parameter given twice is 400 before any cursor is read (api/queries.py)
        codec = codec_for(context.emulator(request).seed)
        scope = f"{workspace_id}|{request.path}"
        sent = [(k, v) for k, v in request.query.items() if k not in UNBOUND]
        token = request.query.get("cursor") or None
        if token is None:
            return cls(codec, scope, request.query, tuple(sent), None)
        bound, after = codec.decode(token, scope)
        differing = _differing(sent, bound)
        if differing:
            raise Problem(
                400,
                f"cursor was issued for another query: {', '.join(differing)} "
                f"{'differs' if len(differing) == 1 else 'differ'} from the query of the first page. "
                "Send the cursor alone (with limit), or with the same parameters.",
                extra={"invalid_params": differing},
            )
        effective: MultiDict[str] = MultiDict(bound)
        for value in request.query.getall("limit", []):
            effective.add("limit", value)
        return cls(codec, scope, MultiDictProxy(effective), bound, after)

    def respond(self, page: Page[T], render: Callable[[T], Any]) -> web.Response:
        return json_response(self.body(page, render))

    def body(self, page: Page[T], render: Callable[[T], Any]) -> dict[str, Any]:
        """The collection envelope (api.md §8): `next_cursor` is null exactly when `has_more` is false."""
        token = self.codec.encode(self.scope, self.bound, page.next_after) if page.next_after else None
        data = [render(i) for i in page.items]
        return {"object": "list", "data": data, "has_more": page.has_more, "next_cursor": token}


def _differing(sent: Sequence[tuple[str, str]], bound: Query) -> list[str]:
    """Names of the parameters sent with a cursor whose values are not the cursor's, in the order sent."""
    names = list(dict.fromkeys(k for k, _ in sent))
    out = []
    for name in names:
        values = [v for k, v in sent if k == name]
        carried = [v for k, v in bound if k == name]
        if values == carried or (not carried and name in DEFAULTS and values == [DEFAULTS[name]]):
            continue
        out.append(name)
    return out
