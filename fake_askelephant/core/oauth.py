"""OAuth 2.0 client credentials (api.md §10, RFC 6749 §4.4): admin-made clients, bearer tokens on the virtual clock."""

from __future__ import annotations

import hmac
import string
from collections.abc import Callable, Iterable

from . import scopes
from . import write_set as tables
from .errors import DomainError, ValidationFailed
from .models import OAuthClient, OAuthToken, Principal
from .seeded import TokenStream
from .store import Store

TOKEN_LIFETIME_S = 3600
TOKEN_PREFIX = "eat_"  # noqa: S105 - a prefix, not a secret (emulator choice)
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

    def issue_token(self, client_id: str, client_secret: str, requested: str | None) -> OAuthToken:
        """client_credentials grant: authenticate the client, narrow the scopes, mint a 1-hour token."""
        client = self._store.oauth_clients.get(client_id)
        expected = client.secret if client else "\0" * len(client_secret)
        if not hmac.compare_digest(expected.encode(), client_secret.encode()) or client is None:
            raise OAuthError("invalid_client", "Client authentication failed: unknown client_id or wrong secret.")
        granted = client.scopes
        if requested is not None:
            asked = frozenset(requested.split())
            if not asked:
                raise OAuthError("invalid_scope", "scope is empty; omit it to get every scope of the client.")
            beyond = sorted(asked - client.scopes)
            if beyond:
                raise OAuthError("invalid_scope", f"The client may not request: {', '.join(beyond)}.")
            granted = asked
        self._drop_expired()
        token = OAuthToken(
            TOKEN_PREFIX + self._random(40),
            client.client_id,
            client.workspace_id,
            client.user_id,
            granted,
            self._now_ms() + TOKEN_LIFETIME_S * 1000,
        )
        self._store.oauth_tokens[token.token] = token
        self._store.write_set.put(tables.OAUTH_TOKENS, token.token, token)
        return token

    def authenticate(self, bearer: str) -> Principal | None:
        """The principal behind a live token; unknown and expired (virtual clock) tokens are None."""
        token = self._store.oauth_tokens.get(bearer)
        if token is None or self._now_ms() >= token.expires_at:
            return None
        return Principal(token.workspace_id, token.user_id, token.scopes, f"oauth_{token.client_id}")

    def _drop_expired(self) -> None:
        now = self._now_ms()
        for key in [k for k, t in self._store.oauth_tokens.items() if now >= t.expires_at]:
            del self._store.oauth_tokens[key]
            self._store.write_set.gone(tables.OAUTH_TOKENS, key)
