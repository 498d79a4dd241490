"""`POST /api/v1/oauth/token` (api.md §10): the client credentials (RFC 6749 §4.4), authorization code with PKCE
(§4.1.3, RFC 7636) and refresh token (§6) grants; the client authenticates by HTTP Basic or `client_secret_post`.

Errors are problem+json carrying RFC 6749 §5.2 `error` and `error_description` members (emulator choice):
invalid_request 400 (not form-encoded, repeated or missing parameter, two client auth methods),
unsupported_grant_type 400, invalid_client 401, invalid_grant 400, invalid_scope 400.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from ..core.oauth import TOKEN_LIFETIME_S, OAuthError
from . import context
from .context import public
from .problems import Problem
from .responses import json_response

FORM = "application/x-www-form-urlencoded"
GRANTS = ("client_credentials", "authorization_code", "refresh_token")
_STATUS = {"invalid_client": 401}
routes = web.RouteTableDef()


def oauth_problem(error: str, description: str, *, basic: bool = False) -> Problem:
    # RFC 6749 §5.2: a client that authenticated with Basic gets a Basic challenge on 401.
    headers = {"WWW-Authenticate": 'Basic realm="askelephant"'} if basic else {}
    return Problem(
        _STATUS.get(error, 400),
        description,
        headers=headers,
        extra={"error": error, "error_description": description},
    )


@routes.post("/api/v1/oauth/token")
@public
async def issue_token(request: web.Request) -> web.Response:
    if request.content_type != FORM:
        raise oauth_problem("invalid_request", f"Send the token request form-encoded ({FORM}).")
    form = await request.post()
    repeated = sorted(k for k in set(form) if len(form.getall(k)) > 1)
    if repeated:
        raise oauth_problem("invalid_request", f"Parameter(s) given more than once: {', '.join(repeated)}.")
    grant_type = form.get("grant_type")
    if not grant_type:
        raise oauth_problem("invalid_request", "grant_type is required.")
    if grant_type not in GRANTS:
        raise oauth_problem("unsupported_grant_type", f"grant_type must be one of: {', '.join(GRANTS)}.")
    client_id, client_secret, basic = _client_credentials(request, form)
    scope = _optional(form, "scope")
    oauth = context.emulator(request).oauth
    refresh = None
    try:
        if grant_type == "client_credentials":
            token = oauth.issue_token(client_id, client_secret, scope)
        elif grant_type == "authorization_code":
            code = _required(form, "code")
            token, refresh = oauth.exchange_code(
                client_id, client_secret, code, _optional(form, "redirect_uri"), _optional(form, "code_verifier")
            )
        else:
            token, refresh = oauth.refresh(client_id, client_secret, _required(form, "refresh_token"), scope)
    except OAuthError as exc:
        raise oauth_problem(exc.error, str(exc), basic=basic and exc.error == "invalid_client") from exc
    body: dict[str, Any] = {"access_token": token.token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S}
    if refresh is not None:
        body["refresh_token"] = refresh.token
    body["scope"] = " ".join(sorted(token.scopes))
    return json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _optional(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    return str(value) if value else None


def _required(form: Mapping[str, Any], name: str) -> str:
    value = _optional(form, name)
    if value is None:
        raise oauth_problem("invalid_request", f"{name} is required for this grant_type.")
    return value


def _client_credentials(request: web.Request, form: Mapping[str, Any]) -> tuple[str, str, bool]:
    """HTTP Basic (RFC 6749 §2.3.1, form-urlencoded parts) or client_id + client_secret in the body, not both."""
    header = request.headers.get("Authorization", "")
    in_body = form.get("client_secret") is not None
    if header[:6].lower() == "basic ":
        if in_body:
            raise oauth_problem("invalid_request", "Authenticate the client one way: Basic header or body, not both.")
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise oauth_problem("invalid_client", "The Basic credentials are not valid base64.", basic=True) from None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise oauth_problem("invalid_client", "The Basic credentials need client_id:client_secret.", basic=True)
        return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " ")), True
    body_id, body_secret = form.get("client_id"), form.get("client_secret")
    if not body_id or not body_secret:
        raise oauth_problem("invalid_client", "Client authentication is required (client_id and client_secret).")
    return str(body_id), str(body_secret), False
