"""The composition root: the domain services and webhook delivery built in dependency order, one per emulator.

Shared by the HTTP app (app.py), the CLI and tests. It sits outside `core/` because it wires core to the
webhook dispatcher; core itself imports nothing of the edges (tests/test_architecture.py).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from .core import scopes, views
from .core.changes import ChangeRecorder
from .core.clock import CLOCK_MAX_MS, Scheduler, VirtualClock, cancel_entry
from .core.companies import CompanyService
from .core.contacts import ContactService
from .core.derived import DerivedContent
from .core.directory_service import DirectoryDeps
from .core.engagements import EngagementService, MediaProbe
from .core.errors import ValidationFailed
from .core.events import EventBus
from .core.faults import FaultRules
from .core.ids import IdFactory
from .core.models import ApiKey, Engagement, OAuthClient, Principal, User
from .core.oauth import OAuthService
from .core.paging import Page, Position
from .core.pipeline import Pipeline
from .core.releaser import Dropped, Releaser, Step
from .core.rules import PipelineRules
from .core.seed_data import Loaded, SeedDataLoader, WorkspaceSeed
from .core.seeded import SeededRandom, TokenStream
from .core.sorted_keys import ID_AT, bound
from .core.store import DEFAULT_API_KEY, DEFAULT_EMAIL, DEFAULT_USER, DEFAULT_WORKSPACE, Store, Workspace, parse_api_key
from .core.tags import AutoTagging, TagService
from .core.timefmt import format_ms
from .core.users import NewUser, UserService
from .core.write_set import WriteSet
from .webhooks.delivery import Dispatcher

_KEY_ALPHABET = string.ascii_letters + string.digits
STATE_PAGE = 100
STATE_COLLECTIONS = (
    "users",
    "api_keys",
    "engagements",
    "contacts",
    "companies",
    "tags",
    "transcript_comments",
    "oauth_clients",
)


class Emulator:
    """Owns clock, scheduler, store, events, the services and webhook delivery. Knows nothing of HTTP."""

    def __init__(
        self,
        *,
        seed: int,
        clock: VirtualClock,
        api_keys: Iterable[str] = (DEFAULT_API_KEY,),
        allow_media_hosts: Collection[str] = (),
        media_probe: MediaProbe | None = None,
        event_log_limit: int = 10_000,
        seed_data: Sequence[WorkspaceSeed] = (),
    ) -> None:
        self.seed = seed
        self.clock = clock
        # Signs /__media links (api/media_links.py). Random, not derived from the seed that /__admin/health shows;
        # persisted with the state, so links handed out before a restart keep working.
        self.media_key = secrets.token_bytes(32)
        # State and machinery first; then each service after those it uses.
        self.scheduler = Scheduler(clock)
        self.ids = IdFactory(seed, clock.now_ms)
        self.request_ids = IdFactory(seed, clock.now_ms, "requests")
        self.key_tokens = TokenStream(seed, "keys")
        # What changed since the state file was last written (core/write_set.py); persistence switches it on.
        self.write_set = WriteSet()
        self.store = Store(self.write_set)
        self.releaser = Releaser()
        self.bus = EventBus(clock, self.ids, event_log_limit, self.write_set)
        self.changes = ChangeRecorder(clock, self.bus, self.store.reorder_engagement, self.write_set)
        self.rules = PipelineRules(self.ids)
        self.faults = FaultRules(SeededRandom(f"{seed}:faults"))
        self.pipeline = Pipeline(
            seed=seed, clock=clock, scheduler=self.scheduler, changes=self.changes, store=self.store
        )
        # Transcripts and insights are derived from the runs when read, never stored (issue 22).
        self.content = DerivedContent(seed=seed, pipeline=self.pipeline)
        self.users = UserService(store=self.store, ids=self.ids, now_ms=clock.now_ms)
        directory = DirectoryDeps(store=self.store, ids=self.ids, now_ms=clock.now_ms, changes=self.changes)
        self.contacts = ContactService(directory)
        self.companies = CompanyService(directory)
        self.tags = TagService(directory)
        self.pipeline.attach_tagger(AutoTagging(self.store, self.content))
        self.engagements = EngagementService(
            seed=seed,
            store=self.store,
            ids=self.ids,
            now_ms=clock.now_ms,
            changes=self.changes,
            pipeline=self.pipeline,
            derived=self.content,
            rules=self.rules,
            link_participants=self.contacts.link_participants,
            allow_media_hosts=allow_media_hosts,
            media_probe=media_probe,
        )
        self.oauth = OAuthService(seed=seed, store=self.store, now_ms=clock.now_ms)
        self.seed_data = SeedDataLoader(
            store=self.store,
            ids=self.ids,
            now_ms=clock.now_ms,
            contacts=self.contacts,
            companies=self.companies,
            tags=self.tags,
        )
        self.webhooks = Dispatcher(
            seed=seed, clock=clock, scheduler=self.scheduler, ids=self.ids, write_set=self.write_set
        )
        self.webhooks.attach(self.bus)
        self._startup_seed_data = list(seed_data)
        self._configured_keys = list(api_keys)
        self._bootstrap()

    def _bootstrap(self) -> None:
        """The default workspace, its owner and the configured keys (api.md §3)."""
        now = self.clock.now_ms()
        if DEFAULT_USER not in self.store.workspace(DEFAULT_WORKSPACE).users:
            self.store.add_user(
                User(DEFAULT_USER, DEFAULT_WORKSPACE, DEFAULT_EMAIL, "OWNER", now, now, "Local", "Owner")
            )
        for token in self._configured_keys:
            parsed = parse_api_key(token)
            if parsed is None:
                raise ValueError(f"malformed API key {token!r}: expected sk-apik_<id>.<secret>")
            self.store.add_api_key(
                ApiKey(parsed[0], parsed[1], DEFAULT_WORKSPACE, DEFAULT_USER, frozenset({scopes.ADMIN}))
            )
        # Start-up seed data is the world before the emulator started: stored without events, with ids of
        # its own stream and time part 0, so it never shifts API-made ids and a state-file restart or a
        # snapshot restore (which boot first, then load) overwrites it instead of adding a second copy.
        seed_data_ids = IdFactory(self.seed, lambda: 0, "seed-data")
        self.startup_loaded = self.seed_data.load(self._startup_seed_data, emit=False, ids=seed_data_ids)

    def authenticate_token(self, token: str) -> Principal | None:
        """OAuth bearer tokens from `POST /v1/oauth/token`; unknown or expired (virtual clock) → None."""
        return self.oauth.authenticate(token)

    # Control plane ------------------------------------------------------------------------------

    async def load_seed_data(self, seed_data: Sequence[WorkspaceSeed]) -> list[Loaded]:
        """`POST /__admin/fixtures`: an upsert that emits `v1.<resource>.created|updated` (webhooks.md §1), in
        slices that let other requests through (core/seed_data.py)."""
        return await self.seed_data.load_sliced(seed_data)

    def create_oauth_client(self, client_scopes: Iterable[str], workspace_id: str = DEFAULT_WORKSPACE) -> OAuthClient:
        """Tokens act as the workspace's owner user, like keys made without a `user`."""
        self.store.workspace(workspace_id)
        return self.oauth.create_client(client_scopes, workspace_id, self.users.default_user(workspace_id).id)

    def create_api_key(
        self, key_scopes: Iterable[str], workspace_id: str = DEFAULT_WORKSPACE, user: NewUser | None = None
    ) -> ApiKey:
        wanted = list(dict.fromkeys(key_scopes))
        unknown = [s for s in wanted if s not in scopes.ALL]
        if unknown:
            raise ValidationFailed.single("scopes", "invalid_enum", f"Unknown scope(s): {', '.join(unknown)}.")
        self.store.workspace(workspace_id)
        owner = self.users.ensure_user(workspace_id, user) if user else self.users.default_user(workspace_id)
        key_id = self.key_tokens.token(_KEY_ALPHABET, 16)
        secret = self.key_tokens.token(_KEY_ALPHABET, 32)
        return self.store.add_api_key(ApiKey(key_id, secret, workspace_id, owner.id, frozenset(wanted)))

    def record_count(self) -> int:
        """Stored engagements, contacts, companies and pipeline runs: what grows with the work (gc_policy.py)."""
        return len(self.pipeline.runs) + sum(
            len(ws.engagements) + len(ws.directory.contacts) + len(ws.directory.companies)
            for ws in self.store.workspaces.values()
        )

    def state_version(self) -> str:
        """Moves whenever anything `state` shows may have changed: every stored write, reset and clock move (the
        inspector's cheap check, an ETag)."""
        return f"{self.write_set.version}.{self.clock.moves}.{self.clock.now_ms()}"

    def state(self, limit: int = STATE_PAGE, workspace_id: str | None = None) -> dict[str, Any]:
        """`GET /__admin/state`: per workspace, the first page (newest first, at most `limit`) of each collection
        with its count and the position after that page (secrets of keys and OAuth clients never shown). O(limit)
        per collection however big the store (issue 22); `state_page` continues one collection."""
        workspaces = [ws for ws in self.store.workspaces.values() if workspace_id is None or ws.id == workspace_id]
        return {
            **views.clock(self.clock),
            "seed": self.seed,
            "limit": limit,
            "workspaces": [self._workspace_state(ws, limit) for ws in workspaces],
        }

    def _workspace_state(self, ws: Workspace, limit: int) -> dict[str, Any]:
        out: dict[str, Any] = {"id": ws.id}
        counts: dict[str, int] = {}
        after: dict[str, Position | None] = {}
        for name in STATE_COLLECTIONS:
            page, counts[name] = self.state_page(ws, name, limit, None)
            out[name], after[name] = page.items, page.next_after
        return {**out, "counts": counts, "after": after}

    def state_page(
        self, ws: Workspace, collection: str, limit: int, after: Position | None
    ) -> tuple[Page[dict[str, Any]], int]:
        """One page of a workspace's collection, newest first, and the collection's size. Engagements follow their
        kept (updated_at, id) order: O(log n + limit). The others follow insertion order from the newest; a cursor
        is found by walking to it (O(position); these collections are small next to engagements)."""
        if collection == "engagements":
            order = ws.engagement_order
            order.sync(ws.engagements)
            keys = order.walk(None, None if after is None else bound(after), descending=True)
            found = [ws.engagements[k[ID_AT:]] for k in islice(keys, limit + 1)]
            rows = [self._engagement_row(e) for e in found]
            positions = [(e.updated_at, e.id) for e in found]
            return _page(rows, positions, limit), len(ws.engagements)
        records, render = self._collection(ws, collection)
        newest_first = iter(reversed(records))
        if after is not None:
            for record in newest_first:  # to the cursor's own record: the page starts after it
                if _record_id(record) == after[1]:
                    break
        taken = list(islice(newest_first, limit + 1))
        return _page([render(r) for r in taken], [(0, _record_id(r)) for r in taken], limit), len(records)

    def _collection(self, ws: Workspace, name: str) -> tuple[Any, Callable[[Any], dict[str, Any]]]:
        d = ws.directory
        if name == "users":
            return list(ws.users.values()), views.user
        if name == "api_keys":
            keys = [k for k in self.store.keys.values() if k.workspace_id == ws.id]
            return keys, lambda k: {"key_id": k.key_id, "user_id": k.user_id, "scopes": sorted(k.scopes)}
        if name == "oauth_clients":
            clients = [c for c in self.store.oauth_clients.values() if c.workspace_id == ws.id]
            return clients, lambda c: {"client_id": c.client_id, "user_id": c.user_id, "scopes": sorted(c.scopes)}
        tables: dict[str, tuple[Any, Callable[[Any], dict[str, Any]]]] = {
            "contacts": (d.contacts, views.contact),
            "companies": (d.companies, views.company),
            "tags": (d.tags, views.tag),
            "transcript_comments": (d.transcript_comments, views.transcript_comment),
        }
        table, render = tables[name]
        return _ReversibleValues(table), render

    def _engagement_row(self, e: Engagement) -> dict[str, Any]:
        return {
            **views.engagement(e),
            "external_id": e.external_id,
            "source_system": e.source_system,
            "contact_ids": e.contact_ids,
            "company_ids": e.company_ids,
            "tag_ids": e.tag_ids,
            "participant_user_ids": e.participant_user_ids,
            "submitted_transcript": e.submitted_transcript,
            "pipeline": self.pipeline.state(e.id),
        }

    async def advance(self, seconds: float, *, field: str = "seconds") -> None:
        """Run everything due within `seconds`; 422 (ValidationFailed) when that passes the clock's range."""
        now = self.clock.now_ms()
        if now + round(seconds * 1000) > CLOCK_MAX_MS:
            left = (CLOCK_MAX_MS - now) / 1000
            raise ValidationFailed.single(
                field,
                "invalid_range",
                f"The virtual clock ends at {format_ms(CLOCK_MAX_MS)}; from {format_ms(now)} at most {left:g} "
                "seconds are left.",
            )
        await self.scheduler.advance(seconds)

    async def set_now(self, ms: int) -> None:
        if ms > CLOCK_MAX_MS:
            raise ValidationFailed.single(
                "now", "invalid_range", f"The virtual clock ends at {format_ms(CLOCK_MAX_MS)}; now is past it."
            )
        """Forward only; runs everything due on the way."""
        await self.scheduler.advance(max(0, ms - self.clock.now_ms()) / 1000)

    def reset(self, workspace_id: str | None = None, *, everything: bool = False) -> None:
        """Clear resources, events, schedules and rules; keys survive unless `everything` (pipeline.md §7).

        Swaps in empty containers and leaves freeing the old ones to `self.releaser` (a few ms per loop turn),
        so the call costs microseconds however full the store was (issue #10: < 10 ms with 10,000 engagements).
        """
        dropped: list[Step] = [
            *self.pipeline.clear(workspace_id),
            *self.webhooks.reset(workspace_id, everything=everything),
            *self.bus.clear(workspace_id),
            *self.store.reset(workspace_id, everything=everything),
        ]
        self.rules.clear(workspace_id)
        self.faults.clear(workspace_id)
        self.content.clear()
        if workspace_id is None:
            # Every job is a pipeline stage or a delivery attempt of the state just cleared.
            dropped.append(Dropped(self.scheduler.drop_all(), each=cancel_entry))
        else:
            # Their jobs are cancelled as the releaser reaches their runs and messages; then compact the queue.
            dropped.append(self.scheduler.discard_cancelled)
        self.releaser.release(dropped)
        if everything:
            self._bootstrap()


class _ReversibleValues:
    """A dict's values, sized and reversible without a copy (reversed() on a dict view is O(1) to start)."""

    def __init__(self, table: dict[str, Any]) -> None:
        self._table = table

    def __len__(self) -> int:
        return len(self._table)

    def __reversed__(self) -> Iterator[Any]:
        return reversed(self._table.values())


def _record_id(record: Any) -> str:
    return str(getattr(record, "key_id", None) or getattr(record, "client_id", None) or record.id)


def _page(rows: list[dict[str, Any]], positions: list[Position], limit: int) -> Page[dict[str, Any]]:
    return Page(rows[:limit], positions[limit - 1] if len(rows) > limit else None)
