"""OAuth 2.0 (api.md §10): admin-made clients; the client credentials (RFC 6749 §4.4), authorization code with
PKCE (§4.1, RFC 7636) and refresh token (§6) grants; bearer tokens on the virtual clock. The emulator also plays
the authorization server's consent step: an admin route issues a code as the consenting user would."""

from __future__ import annotations

import base64
import hashlib
import hmac
import string
from collections.abc import Callable, Iterable

from . import scopes
from . import write_set as tables
from .errors import DomainError, NotFound, ValidationFailed
from .models import OAuthClient, OAuthGrantKind, OAuthToken, Principal
from .seeded import TokenStream
from .store import Store

TOKEN_LIFETIME_S = 3600
CODE_LIFETIME_S = 600  # RFC 6749 §4.1.2: "a maximum authorization code lifetime of 10 minutes is RECOMMENDED"
REFRESH_LIFETIME_S = 30 * 86_400  # emulator choice
TOKEN_PREFIX = "eat_"  # noqa: S105 - a prefix, not a secret (emulator choice)
REFRESH_PREFIX = "ert_"  # emulator choice
CODE_PREFIX = "eac_"  # emulator choice
PKCE_METHODS = ("S256", "plain")
_PREFIXES = {"access": TOKEN_PREFIX, "refresh": REFRESH_PREFIX, "code": CODE_PREFIX}
_ALPHABET = string.ascii_letters + string.digits


class OAuthError(DomainError):
    """An RFC 6749 §5.2 error: `error` is the registered code; the edge picks the status."""

    def __init__(self, error: str, description: str) -> None:
        self.error = error
        super().__init__(description)


class OAuthService:
    def __init__(self, *, seed: int, store: Store, now_ms: Callable[[], int]) -> None:
        self._store = store
        self._now_ms = now_ms
        # Seeded like API keys, so one --seed gives the same credentials.
        self.tokens = TokenStream(seed, "oauth")

    def _random(self, n: int) -> str:
        return self.tokens.token(_ALPHABET, n)

    def create_client(self, client_scopes: Iterable[str], workspace_id: str, user_id: str) -> OAuthClient:
        """`workspace:admin` is for API keys only, never OAuth apps (api.md §3.1) → 422."""
        wanted = list(dict.fromkeys(client_scopes))
        if scopes.ADMIN in wanted:
            raise ValidationFailed.single(
                "scopes", "invalid_enum", "OAuth clients cannot hold workspace:admin; use an API key for that."
            )
        unknown = [s for s in wanted if s not in scopes.ALL]
        if unknown:
            raise ValidationFailed.single("scopes", "invalid_enum", f"Unknown scope(s): {', '.join(unknown)}.")
        client = OAuthClient(f"oac_{self._random(20)}", self._random(40), workspace_id, user_id, frozenset(wanted))
        self._store.oauth_clients[client.client_id] = client
        self._store.write_set.put(tables.OAUTH_CLIENTS, client.client_id, client)
        return client

    def _client(self, client_id: str, client_secret: str) -> OAuthClient:
        client = self._store.oauth_clients.get(client_id)
        expected = client.secret if client else "\0" * len(client_secret)
        if not hmac.compare_digest(expected.encode(), client_secret.encode()) or client is None:
            raise OAuthError("invalid_client", "Client authentication failed: unknown client_id or wrong secret.")
        return client

    @staticmethod
    def _narrowed(requested: str | None, allowed: frozenset[str], whose: str) -> frozenset[str]:
        if requested is None:
            return allowed
        asked = frozenset(requested.split())
        if not asked:
            raise OAuthError("invalid_scope", "scope is empty; omit it to get every scope granted.")
        beyond = sorted(asked - allowed)
        if beyond:
            raise OAuthError("invalid_scope", f"{whose} may not request: {', '.join(beyond)}.")
        return asked

    def _mint(
        self,
        kind: OAuthGrantKind,
        lifetime_s: int,
        like: OAuthToken | OAuthClient,
        user_id: str,
        granted: frozenset[str],
        *,
        redirect_uri: str | None = None,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
    ) -> OAuthToken:
        token = OAuthToken(
            _PREFIXES[kind] + self._random(40),
            like.client_id,
            like.workspace_id,
            user_id,
            granted,
            self._now_ms() + lifetime_s * 1000,
            kind,
            redirect_uri,
            code_challenge,
            code_challenge_method,
        )
        self._store.oauth_tokens[token.token] = token
        self._store.write_set.put(tables.OAUTH_TOKENS, token.token, token)
        return token

    def _spend(self, token: OAuthToken) -> None:
        del self._store.oauth_tokens[token.token]
        self._store.write_set.gone(tables.OAUTH_TOKENS, token.token)

    def issue_token(self, client_id: str, client_secret: str, requested: str | None) -> OAuthToken:
        """client_credentials grant: authenticate the client, narrow the scopes, mint a 1-hour token (no refresh
        token: RFC 6749 §4.4.3)."""
        client = self._client(client_id, client_secret)
        granted = self._narrowed(requested, client.scopes, "The client")
        self._drop_expired()
        return self._mint("access", TOKEN_LIFETIME_S, client, client.user_id, granted)

    def authorize(
        self,
        client_id: str,
        redirect_uri: str,
        user_id: str,
        requested: str | None,
        code_challenge: str | None,
        code_challenge_method: str | None,
    ) -> OAuthToken:
        """The consent step (admin): `user_id` approves the client's request; a 10-minute single-use code bound to
        the redirect URI and the PKCE challenge (method S256 or plain, default plain: RFC 7636 §4.3)."""
        client = self._store.oauth_clients.get(client_id)
        if client is None:
            raise NotFound("oauth client", client_id)
        try:
            granted = self._narrowed(requested, client.scopes, "The client")
        except OAuthError as exc:
            raise ValidationFailed.single("scope", "invalid_enum", str(exc)) from exc
        method = None if code_challenge is None else (code_challenge_method or "plain")
        return self._mint("code", CODE_LIFETIME_S, client, user_id, granted, redirect_uri=redirect_uri,
                          code_challenge=code_challenge, code_challenge_method=method)  # fmt: skip

    def exchange_code(
        self, client_id: str, client_secret: str, code: str, redirect_uri: str | None, code_verifier: str | None
    ) -> tuple[OAuthToken, OAuthToken]:
        """authorization_code grant → (access token, refresh token). A code is spent by its first exchange, good
        or bad (RFC 6749 §4.1.2: used once); every mismatch is `invalid_grant`."""
        client = self._client(client_id, client_secret)
        self._drop_expired()
        grant = self._store.oauth_tokens.get(code)
        if grant is None or grant.kind != "code" or grant.client_id != client.client_id:
            raise OAuthError("invalid_grant", "The authorization code is unknown, expired, used or not this client's.")
        self._spend(grant)
        if redirect_uri != grant.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri differs from the one the code was issued for.")
        if grant.code_challenge is not None:
            if not code_verifier:
                raise OAuthError(
                    "invalid_grant", "code_verifier is required: the code was issued with a PKCE challenge."
                )
            if not hmac.compare_digest(_challenge(code_verifier, grant.code_challenge_method), grant.code_challenge):
                raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge.")
        elif code_verifier:
            raise OAuthError("invalid_grant", "code_verifier sent, but the code was issued without a PKCE challenge.")
        return self._pair(grant, grant.scopes)

    def refresh(
        self, client_id: str, client_secret: str, refresh_token: str, requested: str | None
    ) -> tuple[OAuthToken, OAuthToken]:
        """refresh_token grant → a new access token and a new refresh token; the old refresh token is spent
        (rotation, emulator choice). `scope` may only narrow what was granted (RFC 6749 §6)."""
        client = self._client(client_id, client_secret)
        self._drop_expired()
        grant = self._store.oauth_tokens.get(refresh_token)
        if grant is None or grant.kind != "refresh" or grant.client_id != client.client_id:
            raise OAuthError("invalid_grant", "The refresh token is unknown, expired, used or not this client's.")
        granted = self._narrowed(requested, grant.scopes, "The refresh token")
        self._spend(grant)
        return self._pair(grant, granted)

    def _pair(self, grant: OAuthToken, granted: frozenset[str]) -> tuple[OAuthToken, OAuthToken]:
        access = self._mint("access", TOKEN_LIFETIME_S, grant, grant.user_id, granted)
        refresh = self._mint("refresh", REFRESH_LIFETIME_S, grant, grant.user_id, grant.scopes)
        return access, refresh

    def authenticate(self, bearer: str) -> Principal | None:
        """The principal behind a live token; unknown and expired (virtual clock) tokens are None."""
        token = self._store.oauth_tokens.get(bearer)
        if token is None or token.kind != "access" or self._now_ms() >= token.expires_at:
            return None
        return Principal(token.workspace_id, token.user_id, token.scopes, f"oauth_{token.client_id}")

    def _drop_expired(self) -> None:
        now = self._now_ms()
        for key in [k for k, t in self._store.oauth_tokens.items() if now >= t.expires_at]:
            del self._store.oauth_tokens[key]
            self._store.write_set.gone(tables.OAUTH_TOKENS, key)


def _challenge(verifier: str, method: str | None) -> str:
    """RFC 7636 §4.2: S256 = BASE64URL(SHA256(ASCII(verifier))) without padding; plain = the verifier."""
    if method == "S256":
        return (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii", "replace")).digest()).rstrip(b"=").decode()
        )
    return verifier
