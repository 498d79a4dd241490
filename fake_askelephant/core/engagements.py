"""Engagement use cases (api.md §5–6, §10): create with idempotency and policies, read with expansions, list, the
transcript timeline, replacing contacts and tags, transcript comments, admin delete."""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import math
import random
from bisect import bisect_left, bisect_right
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import field, replace
from typing import Any, NamedTuple

from . import content, policies, scopes, views
from . import write_set as tables
from .changes import ChangeRecorder
from .crm import Bucket, CrmRef, association_matches, resolve_bucket
from .derived import DerivedContent
from .directory import Directory, live_tags
from .directory_service import link_contacts
from .engagement_order import EngagementOrder, NoteBudget, NotesMissing
from .errors import FieldError, Forbidden, NotFound, ValidationFailed
from .ids import IdFactory
from .models import (
    CrmAssociation,
    Engagement,
    EngagementDraft,
    Participant,
    Principal,
    TranscriptComment,
    TranscriptTimeline,
    User,
)
from .paging import Page, Position, TimeRange, paginate_ordered
from .pipeline import Pipeline
from .records import dataclass
from .rules import PipelineRule, PipelineRules
from .sorted_keys import ID_AT, Key, SortedKeys, bound, position_key
from .store import Store
from .write_set import scoped

# Listing walks at most this many records per wanted one (plus a few) before it finds all of a query's (sparse)
# matches at once (emulator choice; measured in benchmarks/).
WALK_PER_ITEM, WALK_EXTRA = 16, 64  # a filter matching 1 record in 16 still pages by walking (~1 ms a page)
# Chunk notes (statuses and types, search texts: core/engagement_order.py) one request may build, ~0.5-1.5 ms each
# at LOAD 512 on a busy machine. After a change, a query rebuilds the few it touched. After a bulk change (a clock
# advance that moved every engagement) a first page that needs more falls back to one pass over the records in their
# stored order (what listing cost before the notes), keeping what it built, so the notes of the chunks queries
# reach fill in over a few requests (all of them at 100,000: ~8 sparse requests).
NOTES_PER_REQUEST = 16

# EngagementService._insert builds an Engagement positionally: binding its 27 fields by keyword took ~13,000 machine
# instructions of a create (issue 22 §2). A field added, removed or moved in models.Engagement stops the import here
# until the call is updated.
_ENGAGEMENT_FIELDS = (
    "id", "workspace_id", "title", "engagement_type", "processing_status", "is_private", "is_internal", "created_at",
    "updated_at", "start_at", "owner_user_id", "host_user_id", "source_system", "external_id", "end_at",
    "duration_seconds", "external_url", "media_url", "run_workflows", "participants", "submitted_transcript",
    "submitted_timeline", "contact_ids", "company_ids", "tag_ids", "crm_association", "participant_user_ids", "version",
)  # fmt: skip
if tuple(f.name for f in dataclasses.fields(Engagement)) != _ENGAGEMENT_FIELDS:
    raise TypeError("models.Engagement's fields changed: update EngagementService._insert's positional call")

MediaProbe = Callable[[str], Awaitable[int]]
"""Checks a media URL that passed the offline policy and returns its duration in seconds (--media-fetch)."""
MediaLink = Callable[[Engagement], str | None]
"""`expand=media_url`: a short-lived download URL on this server (the HTTP edge signs it), or None."""
ParticipantLinker = Callable[[str, tuple[Participant, ...], list[User | None]], tuple[list[str], list[str]]]
"""(workspace, participants, their matched users) → (contact_ids, company_ids); may create contacts."""


@dataclass(frozen=True)
class EngagementQuery:
    order: str = "updated_at:desc"
    limit: int = 25
    after: Position | None = None  # from the cursor (api/cursors.py)
    search: str | None = None
    engagement_types: frozenset[str] | None = None
    processing_statuses: frozenset[str] | None = None
    start_at: TimeRange = field(default_factory=TimeRange)
    updated_at: TimeRange = field(default_factory=TimeRange)
    company_ids: frozenset[str] | None = None
    contact_ids: frozenset[str] | None = None
    crm_associations: tuple[CrmRef, ...] = ()
    # company, participant and project buckets, resolved against the workspace (EngagementService.resolved)
    buckets: tuple[Bucket | None, Bucket | None, Bucket | None] | None = None

    def matches(self, e: Engagement) -> bool:
        if self.search and self.search.casefold() not in e.title.casefold():
            return False
        if self.engagement_types is not None and e.engagement_type not in self.engagement_types:
            return False
        if self.processing_statuses is not None and e.processing_status not in self.processing_statuses:
            return False
        if e.start_at not in self.start_at or e.updated_at not in self.updated_at:
            return False
        # Buckets (api.md §6.3, core/crm.py): OR within a bucket, AND across the populated ones.
        company, participant, project = self.buckets or self.unresolved_buckets()
        return (
            (company is None or company.admits(e.company_ids, e.crm_association))
            and (participant is None or participant.admits(e.contact_ids, e.crm_association))
            and (project is None or project.admits((), e.crm_association))
        )

    def unresolved_buckets(self) -> tuple[Bucket | None, Bucket | None, Bucket | None]:
        refs = self.crm_associations
        return (
            resolve_bucket(self.company_ids, refs, "company"),
            resolve_bucket(self.contact_ids, refs, "contact"),
            resolve_bucket(None, refs, "deal"),
        )


class CreateOutcome(NamedTuple):
    """A create's answer: the engagement, whether this request created it (201) or found it by external_id (200),
    and its view (a new one's is its `v1.engagement.created` event's object: rendered once, changed by nobody)."""

    engagement: Engagement
    created: bool
    view: Mapping[str, Any]


class EngagementService:
    def __init__(
        self,
        *,
        seed: int,
        store: Store,
        ids: IdFactory,
        now_ms: Callable[[], int],
        changes: ChangeRecorder,
        pipeline: Pipeline,
        derived: DerivedContent,
        rules: PipelineRules,
        link_participants: ParticipantLinker,
        allow_media_hosts: Collection[str] = (),
        media_probe: MediaProbe | None = None,
    ) -> None:
        self._seed = seed
        self._store = store
        self._ids = ids
        self._now_ms = now_ms
        self._changes = changes
        self._pipeline = pipeline
        self._derived = derived
        self._rules = rules
        self._allow_media_hosts = allow_media_hosts
        self._media_probe = media_probe
        self._link_participants = link_participants
        self._inflight: dict[tuple[str, str], asyncio.Future[ValidationFailed | None]] = {}
        self._owner_seeds: dict[str, content.SpeakerSeed] = {}
        self._media_rng = random.Random()  # reseeded per create (content.media_duration)

    async def create_engagement(self, principal: Principal, draft: EngagementDraft) -> CreateOutcome:
        """Create, or return the engagement that already holds `external_id` (api.md §5.1–5.2).

        Order after the field rules (emulator choice): idempotency lookup → 200; media policy → 422;
        create → 201. A create that waits on network I/O (media fetch) reserves its external_id, and
        concurrent duplicates wait for its outcome instead of fetching again: the stored engagement (200), or
        the same 422 when it was rejected (a rejected create stores nothing). Only when the first request
        ended otherwise (cancelled, say) does the next one try for itself.
        """
        key = (principal.workspace_id, draft.external_id)
        while True:
            existing = self._store.find_by_external_id(*key)
            if existing is not None:
                return CreateOutcome(existing, False, views.engagement(existing))
            waiting = self._inflight.get(key)
            if waiting is None:
                break
            rejected = await asyncio.shield(waiting)
            if rejected is not None:
                raise ValidationFailed(rejected.errors)
        rule = self._rules.take(principal.workspace_id, draft)
        duration, fetch = self._check_media(draft, rule)
        if not fetch:  # nothing awaited since the lookup: no other create saw this one in flight
            return self._insert(principal, draft, duration, rule)
        reservation: asyncio.Future[ValidationFailed | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = reservation
        outcome: ValidationFailed | None = None
        try:
            assert self._media_probe is not None and draft.media_url is not None
            fetched = await self._media_probe(draft.media_url)
            if draft.transcript_timeline is None:
                duration = fetched
            return self._insert(principal, draft, duration, rule)
        except ValidationFailed as exc:
            outcome = exc
            raise
        finally:
            del self._inflight[key]
            reservation.set_result(outcome)

    def _check_media(self, draft: EngagementDraft, rule: PipelineRule | None) -> tuple[int, bool]:
        """The duration, and whether the media must still be fetched (--media-fetch: the fetch's duration then
        replaces it unless a timeline was submitted); 422 for a scripted or policy rejection."""
        if rule and rule.media in ("unreachable", "unsupported_media_type"):
            code = "media_unreachable" if rule.media == "unreachable" else "unsupported_media_type"
            message = (
                "media_url could not be fetched."
                if rule.media == "unreachable"
                else "media_url does not serve audio/* or video/* content."
            )
            raise ValidationFailed.single("media_url", code, message)
        if draft.transcript_timeline is not None:
            duration = content.timeline_duration(draft.transcript_timeline)
        elif draft.media_url is not None:
            duration = content.media_duration(self._seed, draft.media_url, self._media_rng)
        else:
            duration = 0
        if draft.media_url is not None:
            error = policies.media_url_policy_error(draft.media_url, self._allow_media_hosts)
            if error:
                raise ValidationFailed([error])
            # A matching pipeline rule scripts the media instead of the check (pipeline.md §5).
            if rule is None and self._media_probe is not None:
                return duration, True
            if rule is None and (error := policies.offline_media_error(draft.media_url)):
                raise ValidationFailed([error])
        if rule and rule.duration_seconds:
            duration = rule.duration_seconds
        return duration, False

    def _insert(
        self, principal: Principal, draft: EngagementDraft, duration: int, rule: PipelineRule | None
    ) -> CreateOutcome:
        now = self._now_ms()
        ws = principal.workspace_id
        ws_record = self._store.workspace(ws)
        matched = [self._store.find_user(ws, p.email, p.phone) for p in draft.participants]
        owner = self._resolve_owner(ws, principal, draft.participants, matched)
        # The id comes first so linking contacts (which draws ids) leaves engagement ids as they were.
        engagement_id = self._ids.new("ngmt")
        contact_ids, company_ids = self._link_participants(ws, draft.participants, matched)
        start_at = draft.start_at if draft.start_at is not None else now
        internal, user_ids = bool(matched), []  # every participant a user; those users, once each
        for u in matched:
            if u is None:
                internal = False
            elif u.id not in user_ids:
                user_ids.append(u.id)
        e = Engagement(  # positionally, in _ENGAGEMENT_FIELDS' order
            engagement_id,  # id
            ws,  # workspace_id
            draft.title,  # title
            draft.engagement_type,  # engagement_type
            "PENDING",  # processing_status
            ws_record.private_by_default if draft.is_private is None else draft.is_private,  # is_private
            internal,  # is_internal
            now,  # created_at
            now,  # updated_at
            start_at,  # start_at
            owner.id,  # owner_user_id
            owner.id,  # host_user_id
            draft.source_system,  # source_system
            draft.external_id,  # external_id
            # The media was probed during the request (offline: the seeded model), so the end is known now and
            # both fields carry their documented non-null types from the first response (api.md §6.2).
            start_at + duration * 1000,  # end_at
            duration,  # duration_seconds
            draft.external_url,  # external_url
            draft.media_url,  # media_url
            draft.run_workflows,  # run_workflows
            draft.participants,  # participants
            draft.transcript,  # submitted_transcript
            _with_user_ids(draft.transcript_timeline, self._store, ws),  # submitted_timeline
            contact_ids,  # contact_ids
            company_ids,  # company_ids
            [],  # tag_ids
            None,  # crm_association
            user_ids,  # participant_user_ids
        )
        self._store.insert_engagement(e)
        event = self._changes.created(e)
        speakers = [
            content.SpeakerSeed(_speaker_name(p, u), p.email, p.phone, p.is_owner, u.id if u else None)
            for p, u in zip(draft.participants, matched, strict=True)
        ]
        # Most calls share their owner: keep one copy per user (memory per engagement, issue 22).
        name, known = owner.display_name, self._owner_seeds.get(owner.id)
        if known is not None and (known.name, known.email, known.phone) == (name, owner.email, owner.phone):
            owner_seed = known
        else:
            owner_seed = content.SpeakerSeed(name, owner.email, owner.phone, True, owner.id)
            self._owner_seeds[owner.id] = owner_seed
        self._pipeline.start(e, duration, speakers, owner_seed, rule.pipeline if rule else None)
        return CreateOutcome(e, True, event.object if event is not None else views.engagement(e))

    def _resolve_owner(
        self, ws: str, principal: Principal, participants: tuple[Participant, ...], matched: list[User | None]
    ) -> User:
        """The is_owner participant's active user by email, then phone; else the caller's user (api.md §5).
        `matched`: each participant's user by email, else by phone (Store.find_user)."""
        owner: Participant | None = None
        user: User | None = None
        for p, u in zip(participants, matched, strict=True):
            if p.is_owner:
                owner, user = p, u
                break
        if user is not None and user.can_own:  # the first lookup that found a user found one that may own
            return user
        # `user` may not own. Found by email, it is the email lookup's answer: the phone's is next. Found by phone
        # (no user by email), it is the phone lookup's answer too: none may own.
        if owner is not None and user is not None and owner.phone:
            candidate = self._store.find_user_by_phone(ws, owner.phone)
            if candidate is not None and candidate.can_own:
                return candidate
        return self._store.get_user(ws, principal.user_id)

    # Reads ----------------------------------------------------------------------------------------

    def get_engagement(self, principal: Principal, engagement_id: str) -> Engagement:
        e = self._store.get_engagement(principal.workspace_id, engagement_id)
        if not can_view(principal, e):
            # Hidden, not forbidden: its existence must not leak (api.md §3.1).
            raise NotFound("engagement", engagement_id)
        return e

    def expanded(self, e: Engagement, expand: Sequence[str], media_link: MediaLink) -> dict[str, Any]:
        """The engagement plus the requested expansions, in the order asked (api.md §6.2)."""
        out = views.engagement(e)
        for name in expand:
            if name == "transcript":
                timeline = self._derived.timeline(e)  # derived content (core/derived.py)
                out["transcript"] = views.transcript_text(timeline) if timeline else None
            elif name == "action_items":
                out["action_items"] = [views.action_item(a) for a in self._derived.action_items(e)]
            elif name == "signals":
                out["signals"] = [views.signal(s) for s in self._derived.signals(e)]
            elif name == "owner":
                ws = self._store.workspaces.get(e.workspace_id)
                owner = ws.users.get(e.owner_user_id) if ws else None
                out["owner"] = views.user(owner) if owner else None
            elif name == "media_url":
                out["media_url"] = media_link(e)
            else:
                out[name] = _related(self._store.workspace(e.workspace_id).directory, e, name)
        return out

    def list_engagements(self, principal: Principal, query: EngagementQuery) -> Page[Engagement]:
        """One page in O(log n + page) when matches are dense among the keys walked (issue 22 §4).

        The keys walked are the smallest source the kept indexes offer (`_source`): the postings of a filter's
        values, the titles' search text, or the whole (updated_at, id) order; walked from the cursor, inside the
        updated_at window, checking each record. Most queries fill a page within a few hundred records. If not,
        the matches are sparse among that source: all of its records are checked at once by a few list
        comprehensions, and the sorted result is remembered until the workspace changes, so the next pages of that
        query read the same list and a paged walk stays O(n).
        """
        ws = self._store.workspace(principal.workspace_id)
        # Buckets resolved once per request, not once per record `matches` reads.
        resolved = _resolved_buckets(ws.directory, query) if query.crm_associations else query.unresolved_buckets()
        query = replace(query, buckets=resolved)
        order = ws.engagement_order
        order.sync(ws.engagements)
        descending = query.order == "updated_at:desc"
        lo, hi = _window(query.updated_at)
        if query.after is not None:
            after = bound(query.after)
            if descending:
                hi = after if hi is None else min(hi, after)
            else:
                lo = after if lo is None else max(lo, after)
        engagements = ws.engagements
        # A sparse query already answered since the last change: its next page is a bisect into the same matches.
        remembered = (replace(query, after=None, limit=0), principal.user_id, scopes.can_read_private(principal))
        keys = order.cached(remembered)
        if keys is not None:
            return _page_of(keys, engagements, lo, hi, descending, query.limit)
        source = _source(order, engagements, query, NoteBudget(NOTES_PER_REQUEST))
        budget = WALK_PER_ITEM * (query.limit + 1) + WALK_EXTRA
        matched: list[Engagement] = []
        try:
            for visited, key in enumerate(source(lo, hi, descending), 1):
                e = engagements[key[ID_AT:]]
                if can_view(principal, e) and query.matches(e):
                    matched.append(e)
                    if len(matched) > query.limit:
                        break
                if visited == budget:
                    window_lo, window_hi = _window(query.updated_at)
                    keys = _all_matches(
                        [engagements[k[ID_AT:]] for k in source(window_lo, window_hi, False)], principal, query
                    )
                    break
        except NotesMissing:  # a search after a bulk change: the titles' own text names the candidates
            needle = (query.search or "").casefold()  # only a search walks the chunk texts
            candidates = [engagements[i] for i in order.titles.matching(needle, engagements)]
            keys = _all_matches(candidates, principal, query)
        if keys is not None:
            order.remember(remembered, keys)
            return _page_of(keys, engagements, lo, hi, descending, query.limit)
        return paginate_ordered(matched, _position, limit=query.limit)

    def get_transcript_timeline(
        self, principal: Principal, engagement_id: str
    ) -> tuple[Engagement, TranscriptTimeline]:
        e = self.get_engagement(principal, engagement_id)
        timeline = self._derived.timeline(e)
        if timeline is None:
            raise NotFound(
                "transcript_timeline",
                detail=f"Engagement {engagement_id} has no transcript yet"
                + (" and never will (processing failed)." if e.processing_status == "FAILED" else "."),
            )
        return e, timeline

    # Links and comments (api.md §10) --------------------------------------------------------------

    def _writable(self, principal: Principal, engagement_id: str) -> Engagement:
        """A private engagement needs engagements:private:write, and nothing more (api.md §3.1): without it, a
        caller who may view it gets 403, anyone else 404 (hidden)."""
        e = self._store.get_engagement(principal.workspace_id, engagement_id)
        if e.is_private and not scopes.has(principal, scopes.ENGAGEMENTS_PRIVATE_WRITE):
            if can_view(principal, e):
                raise Forbidden([scopes.ENGAGEMENTS_PRIVATE_WRITE])
            raise NotFound("engagement", engagement_id)
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
        link_contacts(self._changes, d, e, wanted)
        return e

    def replace_engagement_tags(self, principal: Principal, engagement_id: str, tag_ids: Sequence[str]) -> Engagement:
        e = self._writable(principal, engagement_id)
        d = self._store.workspace(principal.workspace_id).directory
        _check_known("tag_ids", tag_ids, {t.id: t for t in live_tags(d.tags.values())}, "tag")
        self._changes.change(e, tag_ids=_unique(tag_ids))
        return e

    # Transcript comments (api.md §10): on the engagement's primary timeline, visible with the engagement.

    def add_transcript_comment(
        self,
        principal: Principal,
        engagement_id: str,
        body: str,
        timeline_id: str | None = None,
        anchor: Mapping[str, Any] | None = None,
    ) -> TranscriptComment:
        """404 for hidden engagements and, until the transcript stage ran, for visible ones (emulator choice); a
        `transcript_timeline_id` other than the primary timeline's → 422 (emulator choice)."""
        e = self.get_engagement(principal, engagement_id)
        if not self._derived.has_transcript(e):
            raise NotFound(
                "transcript_timeline", detail=f"Engagement {engagement_id} has no transcript to comment on yet."
            )
        primary = views.timeline_id(e.id)
        if timeline_id is not None and timeline_id != primary:
            raise ValidationFailed.single(
                "transcript_timeline_id",
                "invalid_enum",
                f"transcript_timeline_id {timeline_id!r} is not a timeline of this engagement ({primary} is).",
            )
        now = self._now_ms()
        comment = TranscriptComment(
            self._ids.new("tano"), e.workspace_id, e.id, primary, body, principal.user_id, now, now,
            anchor=dict(anchor or {}),
        )  # fmt: skip
        self._store.workspace(e.workspace_id).directory.transcript_comments[comment.id] = comment
        self._comment_stored(comment)
        return comment

    def get_transcript_comment(self, principal: Principal, comment_id: str) -> TranscriptComment:
        """404 when unknown, in another workspace, or on an engagement the caller may not view."""
        comment = self._store.workspace(principal.workspace_id).directory.transcript_comments.get(comment_id)
        e = self._store.find_engagement(principal.workspace_id, comment.engagement_id) if comment else None
        if comment is None or e is None or not can_view(principal, e):
            raise NotFound("transcript_comment", comment_id)
        return comment

    def update_transcript_comment(
        self, principal: Principal, comment_id: str, changes: Mapping[str, Any]
    ) -> TranscriptComment:
        """`body`, `anchor`, `status` (PATCH page not captured: emulator choice). Resolving records who and when;
        reopening clears both. Nothing changed → nothing stored, `updated_at` stays."""
        comment = self.get_transcript_comment(principal, comment_id)
        now = self._now_ms()
        fields = {k: v for k, v in changes.items() if k in ("body", "anchor", "status")}
        if fields.get("status") == "resolved" and comment.status != "resolved":
            fields.update(resolved_by=principal.user_id, resolved_at=now)
        elif fields.get("status") == "open" and comment.status != "open":
            fields.update(resolved_by=None, resolved_at=None)
        fields = {k: v for k, v in fields.items() if getattr(comment, k) != v}
        if fields:
            for name, value in fields.items():
                setattr(comment, name, value)
            comment.updated_at = max(comment.updated_at, now)
            self._comment_stored(comment)
        return comment

    def delete_transcript_comment(self, principal: Principal, comment_id: str) -> TranscriptComment:
        comment = self.get_transcript_comment(principal, comment_id)
        del self._store.workspace(comment.workspace_id).directory.transcript_comments[comment.id]
        self._store.write_set.gone(tables.TRANSCRIPT_COMMENTS, scoped(comment.workspace_id, comment.id))
        return comment

    def _comment_stored(self, comment: TranscriptComment) -> None:
        self._store.write_set.put(tables.TRANSCRIPT_COMMENTS, scoped(comment.workspace_id, comment.id), comment)

    def set_crm_association(self, e: Engagement, association: CrmAssociation | None) -> Engagement:
        """Seed data / admin: the CRM record the engagement was matched to, or none (api.md §6.2)."""
        self._changes.change(e, crm_association=association)
        return e

    def delete_engagement(self, e: Engagement) -> None:
        self._pipeline.forget(e.id)
        self._store.delete_engagement(e)
        self._changes.deleted(e)


def can_view(principal: Principal, e: Engagement) -> bool:
    """Private engagements: "only participants and users with engagements:private:read can view" (create
    engagement). Participants are the owner and the users matched among the participants (api.md §3.1)."""
    if not e.is_private or scopes.can_read_private(principal):
        return True
    return principal.user_id == e.owner_user_id or principal.user_id in e.participant_user_ids


_ANY_TIME = TimeRange()


def _position(e: Engagement) -> Position:
    return e.updated_at, e.id


def _window(updated: TimeRange) -> tuple[Key | None, Key | None]:
    """An updated_at window as strict bounds on (updated_at, id): ("", an id never has) sorts before every id."""
    first, last = updated.bounds()
    return (None if first is None else bound((first, ""))), (None if last is None else bound((last + 1, "")))


Source = Callable[[Key | None, Key | None, bool], Iterator[Key]]
"""Keys strictly between lo and hi, in page order (descending when True), a superset of a query's matches."""
SEARCH_SHARE = 32  # a search text costs about as much to scan as 1 record in this many costs to check


def _source(
    order: EngagementOrder, engagements: Mapping[str, Engagement], query: EngagementQuery, notes: NoteBudget
) -> Source:
    """The smallest superset of the query's matches the indexes offer, in this order of preference: the union of
    a bucket's postings when it is small; the titles' search text when the query searches; the chunks' notes of
    statuses and types when it filters on them; the smallest bucket's postings; the whole order."""
    company, participant, project = query.buckets or query.unresolved_buckets()
    candidates: list[list[SortedKeys]] = []
    for bucket, kind in ((company, "company"), (participant, "contact"), (project, "")):
        if bucket is not None:
            ids = order.postings(kind, bucket.ids) if kind else []
            candidates.append(ids + order.postings("crm", ((r.id, r.object_type) for r in bucket.refs)))
    best = min(candidates, key=lambda postings: sum(map(len, postings)), default=None)
    size = len(order) if best is None else sum(map(len, best))
    small = size <= len(order) // SEARCH_SHARE
    if query.search and not small:
        needle = query.search.casefold()
        return lambda lo, hi, descending: order.title_walk(
            needle, engagements, lo, hi, descending=descending, budget=notes
        )
    statuses, types = query.processing_statuses, query.engagement_types
    table = order.value_table(statuses, types) if statuses is not None or types is not None else None
    if table is not None and not small:
        return lambda lo, hi, descending: order.value_walk(table, lo, hi, descending=descending)
    if best is None or size >= len(order):
        return lambda lo, hi, descending: order.walk(lo, hi, descending=descending)
    if len(best) == 1:
        [posting] = best
        return lambda lo, hi, descending: posting.walk(lo, hi, descending=descending)

    def union(lo: Key | None, hi: Key | None, descending: bool) -> Iterator[Key]:
        walks = [p.walk(lo, hi, descending=descending) for p in best]
        last: Key | None = None
        for key in heapq.merge(*walks, reverse=descending):
            if key != last:  # an engagement filed under two of the values
                yield key
                last = key

    return union


Pass = Callable[[list[Engagement]], list[Engagement]]


def _passes(principal: Principal, query: EngagementQuery) -> list[Pass]:
    """`query.matches` and `can_view` as list comprehensions, one per populated filter, the likely sparsest first
    (a tight comprehension costs ~50–150 ns a record where a call per record costs ~1 µs)."""
    passes: list[Pass] = []
    if query.search:
        needle = query.search.casefold()
        passes.append(lambda es: [e for e in es if needle in e.title.casefold()])
    company, participant, project = query.buckets or query.unresolved_buckets()
    # A bucket's ids are a set test; its CRM entries are called for only on the few records that hold an association.
    if participant is not None:
        contacts, contact_refs = participant.ids, participant.refs
        passes.append(
            lambda es: [
                e
                for e in es
                if (e.contact_ids and not contacts.isdisjoint(e.contact_ids))
                or (e.crm_association is not None and association_matches(e.crm_association, contact_refs))
            ]
        )
    if company is not None:
        companies, company_refs = company.ids, company.refs
        passes.append(
            lambda es: [
                e
                for e in es
                if (e.company_ids and not companies.isdisjoint(e.company_ids))
                or (e.crm_association is not None and association_matches(e.crm_association, company_refs))
            ]
        )
    if project is not None:
        project_refs = project.refs
        passes.append(
            lambda es: [
                e for e in es if e.crm_association is not None and association_matches(e.crm_association, project_refs)
            ]
        )
    if query.processing_statuses is not None:
        statuses = query.processing_statuses
        passes.append(lambda es: [e for e in es if e.processing_status in statuses])
    if query.engagement_types is not None:
        types = query.engagement_types
        passes.append(lambda es: [e for e in es if e.engagement_type in types])
    if query.start_at != _ANY_TIME:
        start_low, start_high = _inclusive(query.start_at)
        passes.append(lambda es: [e for e in es if start_low <= e.start_at <= start_high])
    if query.updated_at != _ANY_TIME:
        updated_low, updated_high = _inclusive(query.updated_at)
        passes.append(lambda es: [e for e in es if updated_low <= e.updated_at <= updated_high])
    if not scopes.can_read_private(principal):
        passes.append(lambda es: [e for e in es if not e.is_private or can_view(principal, e)])
    return passes


def _inclusive(window: TimeRange) -> tuple[float, float]:
    first, last = window.bounds()
    return (-math.inf if first is None else first), (math.inf if last is None else last)


def _all_matches(records: Iterable[Engagement], principal: Principal, query: EngagementQuery) -> list[Key]:
    """The order's keys of every record `query` admits for `principal`, ascending."""
    found = list(records)
    for keep in _passes(principal, query):  # the likely sparsest first: each pass reads only what is left
        found = keep(found)
    return sorted([position_key(e.updated_at, e.id) for e in found])


def _page_of(
    keys: list[Key],
    engagements: Mapping[str, Engagement],
    lo: Key | None,
    hi: Key | None,
    descending: bool,
    limit: int,
) -> Page[Engagement]:
    """The page strictly between lo and hi of all the matches (ascending positions), in page order."""
    start = 0 if lo is None else bisect_right(keys, lo)
    end = len(keys) if hi is None else bisect_left(keys, hi)
    taken = keys[max(start, end - limit - 1) : end][::-1] if descending else keys[start : min(end, start + limit + 1)]
    return paginate_ordered([engagements[k[ID_AT:]] for k in taken], _position, limit=limit)


def _resolved_buckets(d: Directory, query: EngagementQuery) -> tuple[Bucket | None, Bucket | None, Bucket | None]:
    """CRM entries resolve through the workspace's stored associations (core/crm.py)."""
    refs = query.crm_associations
    return (
        resolve_bucket(query.company_ids, refs, "company", ((c.id, c.crm_association) for c in d.companies.values())),
        resolve_bucket(query.contact_ids, refs, "contact", ((c.id, c.crm_association) for c in d.contacts.values())),
        resolve_bucket(None, refs, "deal"),
    )


def _speaker_name(p: Participant, user: User | None) -> str:
    return p.name or (user.display_name if user else None) or p.email or p.phone or "Unknown"


def _with_user_ids(timeline: TranscriptTimeline | None, store: Store, ws: str) -> TranscriptTimeline | None:
    if timeline is None:
        return None
    for speaker in timeline.speakers:
        user = store.find_user(ws, speaker.email, speaker.phone)
        speaker.user_id = user.id if user else None
    return timeline


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


def _related(d: Directory, e: Engagement, name: str) -> list[dict[str, Any]]:
    """`expand=companies|contacts|tags`: the linked records that still exist, in link order (api.md §6.2)."""
    if name == "companies":
        return [views.engagement_company(d.companies[i]) for i in e.company_ids if i in d.companies]
    if name == "contacts":
        return [views.contact(d.contacts[i]) for i in e.contact_ids if i in d.contacts]
    assert name == "tags", name
    return [views.tag(d.tags[i]) for i in e.tag_ids if i in d.tags and d.tags[i].deleted_at is None]
