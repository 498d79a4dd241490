"""Replacing an engagement's contacts or tags (api.md §3.1, §10), and commenting on its transcript."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from . import changes as tables
from . import scopes
from .changes import scoped
from .contacts import companies_of
from .errors import FieldError, Forbidden, NotFound, ValidationFailed
from .ids import IdFactory
from .models import Engagement, Principal, TranscriptComment
from .recorder import EngagementRecorder
from .store import Store


class EngagementLinks:
    """PUT …/contacts, PUT …/tags and POST …/transcript_comments; all start from a readable engagement."""

    def __init__(
        self,
        *,
        store: Store,
        ids: IdFactory,
        now_ms: Callable[[], int],
        recorder: EngagementRecorder,
        get_engagement: Callable[[Principal, str], Engagement],
    ) -> None:
        self._store = store
        self._ids = ids
        self._now_ms = now_ms
        self._recorder = recorder
        self._get_engagement = get_engagement

    def _writable(self, principal: Principal, engagement_id: str) -> Engagement:
        """Private without private:read → 404 (hidden); private:read without private:write → 403 (api.md §3.1)."""
        e = self._get_engagement(principal, engagement_id)
        if e.is_private and not scopes.has(principal, scopes.ENGAGEMENTS_PRIVATE_WRITE):
            raise Forbidden([scopes.ENGAGEMENTS_PRIVATE_WRITE])
        return e

    def replace_engagement_contacts(
        self, principal: Principal, engagement_id: str, contact_ids: Sequence[str]
    ) -> Engagement:
        """Full replacement; `[]` clears. The engagement's companies follow its contacts (core/contacts.py).

        The docs keep calendar-resource participants; the emulator has none, so nothing else is kept.
        """
        e = self._writable(principal, engagement_id)
        d = self._store.workspace(principal.workspace_id).directory
        wanted = _unique(contact_ids)
        _check_known("contact_ids", contact_ids, d.contacts, "contact")
        contacts = [d.contacts[c] for c in wanted]
        self._recorder.change(e, contact_ids=wanted, company_ids=companies_of(d, contacts))
        return e

    def replace_engagement_tags(self, principal: Principal, engagement_id: str, tag_ids: Sequence[str]) -> Engagement:
        e = self._writable(principal, engagement_id)
        d = self._store.workspace(principal.workspace_id).directory
        _check_known("tag_ids", tag_ids, d.tags, "tag")
        self._recorder.change(e, tag_ids=_unique(tag_ids))
        return e

    def add_transcript_comment(
        self, principal: Principal, engagement_id: str, text: str, start_seconds: float | None
    ) -> TranscriptComment:
        """404 for hidden engagements and, until the transcript stage ran, for visible ones (emulator choice)."""
        e = self._get_engagement(principal, engagement_id)
        if e.timeline is None:
            raise NotFound(
                "transcript_timeline", detail=f"Engagement {engagement_id} has no transcript to comment on yet."
            )
        now = self._now_ms()
        comment = TranscriptComment(
            self._ids.new("tcmt"), e.workspace_id, e.id, text, start_seconds, principal.user_id, now, now
        )
        self._store.workspace(e.workspace_id).directory.transcript_comments[comment.id] = comment
        self._store.changes.put(tables.TRANSCRIPT_COMMENTS, scoped(e.workspace_id, comment.id), comment)
        return comment


def _unique(ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _check_known(name: str, ids: Sequence[str], known: Mapping[str, object], kind: str) -> None:
    """Unknown or foreign ids → 422 invalid_enum, one error per offending item (emulator choice)."""
    errors = [
        FieldError(f"{name}[{i}]", "invalid_enum", f"{name}[{i}] {value!r} is not a {kind} in this workspace.")
        for i, value in enumerate(ids)
        if value not in known
    ]
    if errors:
        raise ValidationFailed(errors)
