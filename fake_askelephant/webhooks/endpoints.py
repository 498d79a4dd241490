"""Webhook endpoints: where, which event types, which secret(s), which header names, and the hazards to inject."""

from __future__ import annotations

from dataclasses import field
from typing import Any, Literal

from ..core.records import dataclass
from ..core.timefmt import format_ms
from .hazards import Hazards

ROTATION_GRACE_MS = 24 * 3600 * 1000  # Svix's default: the old secret keeps signing for 24 h
HeaderStyle = Literal["svix", "webhook"]  # svix-id/-timestamp/-signature, or the Standard Webhooks webhook-* names


@dataclass
class WebhookEndpoint:
    id: str
    workspace_id: str
    url: str
    secret: str
    created_at: int
    event_types: tuple[str, ...] | None = None  # None: every type
    header_style: HeaderStyle = "svix"
    hazards: Hazards = field(default_factory=Hazards)
    disabled: bool = False
    previous_secret: str | None = None
    previous_secret_until: int | None = None
    failing_since: int | None = None  # first failure since the last 2xx (disable rule)

    def wants(self, event_type: str) -> bool:
        return not self.disabled and (self.event_types is None or event_type in self.event_types)

    def signing_secrets(self, now_ms: int) -> list[str]:
        """Newest first; the previous secret signs too until its grace period ends."""
        if self.previous_secret and self.previous_secret_until is not None and now_ms < self.previous_secret_until:
            return [self.secret, self.previous_secret]
        return [self.secret]

    def rotate(self, new_secret: str, now_ms: int) -> None:
        self.previous_secret, self.previous_secret_until = self.secret, now_ms + ROTATION_GRACE_MS
        self.secret = new_secret

    def view(self) -> dict[str, Any]:
        return {
            "object": "webhook_endpoint",
            "id": self.id,
            "url": self.url,
            "secret": self.secret,
            "event_types": list(self.event_types) if self.event_types is not None else None,
            "workspace_id": self.workspace_id,
            "disabled": self.disabled,
            "header_style": self.header_style,
            "hazards": self.hazards.as_dict(),
            "created_at": format_ms(self.created_at),
            "previous_secret_expires_at": format_ms(self.previous_secret_until)
            if self.previous_secret_until is not None
            else None,
            "failing_since": format_ms(self.failing_since) if self.failing_since is not None else None,
        }
