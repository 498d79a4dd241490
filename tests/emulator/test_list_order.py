"""Engagement pages come from a kept (updated_at, id) order; they must equal sorting the workspace (api.md §8)."""

from __future__ import annotations

import random
from typing import Any

from fake_askelephant.core import scopes
from fake_askelephant.core.engagements import EngagementQuery, can_view
from fake_askelephant.core.models import Engagement, EngagementDraft, Principal
from fake_askelephant.core.paging import Page, paginate
from fake_askelephant.core.users import NewUser
from fake_askelephant.emulator import Emulator
from tests.conftest import Api

WS = "wrks_local"


def principal(emulator: Emulator, *key_scopes: str, user: NewUser | None = None) -> Principal:
    key = emulator.create_api_key(list(key_scopes), WS, user)
    found = emulator.store.authenticate_key(key.token)
    assert found is not None
    return found


def by_sorting(emulator: Emulator, who: Principal, query: EngagementQuery) -> Page[Engagement]:
    """The model: what listing did before it kept an order, sort every record that matches."""
    items = [e for e in emulator.store.workspace(WS).engagements.values() if can_view(who, e) and query.matches(e)]
    return paginate(items, lambda e: (e.updated_at, e.id), order=query.order, limit=query.limit, after=query.after)


def walk(emulator: Emulator, who: Principal, **query: Any) -> list[list[str]]:
    """Every page of a query, each checked against the model (cursors included)."""
    pages: list[list[str]] = []
    after = None
    while True:
        q = EngagementQuery(after=after, **query)
        got, want = emulator.engagements.list_engagements(who, q), by_sorting(emulator, who, q)
        assert [e.id for e in got.items] == [e.id for e in want.items]
        assert got.next_after == want.next_after
        pages.append([e.id for e in got.items])
        if not got.next_after:
            return pages
        after = got.next_after


QUERIES: list[dict[str, Any]] = [
    {"limit": 7},
    {"limit": 7, "order": "updated_at:asc"},
    {"limit": 3, "search": "call 37"},  # sparse: falls back to a scan after the walk budget
    {"limit": 5, "engagement_types": frozenset({"MEETING"})},
    {"limit": 100},
]


async def test_pages_equal_sorting_the_workspace_through_creates_changes_deletes_and_resets(api: Api) -> None:
    em = api.emulator
    admin, plain = principal(em, scopes.ADMIN), principal(em, scopes.ENGAGEMENTS_READ)
    # Not a participant of anything: sees no private engagement (the owner, `plain`, sees its own).
    stranger = principal(em, scopes.ENGAGEMENTS_READ, user=NewUser("stranger@example.com"))
    rng = random.Random(7)
    live: list[Engagement] = []
    for step in range(400):
        roll = rng.random()
        if roll < 0.5 or not live:
            n = step
            draft = EngagementDraft(
                rng.choice(["CALL", "MEETING"]),
                f"Call {n}",
                "dialer",
                f"call-{n}",
                "https://r.example.com/a.mp3",
                is_private=rng.random() < 0.2,
            )
            live.append((await em.engagements.create_engagement(admin, draft))[0])
        elif roll < 0.75:
            em.changes.change(rng.choice(live), title=f"Renamed {step}")
        elif roll < 0.85:
            gone = live.pop(rng.randrange(len(live)))
            em.engagements.delete_engagement(gone)
        else:
            await em.advance(rng.choice([0.001, 1, 30, 200]))  # pipeline stages move updated_at
        if step == 150:
            em.reset(WS)
            live.clear()
        if step % 40 == 0:
            for query in QUERIES:
                walk(em, admin, **query)
                walk(em, plain, **query)
                walk(em, stranger, **query)
    assert len(em.store.workspace(WS).engagements) > 50
    for query in QUERIES:
        walk(em, admin, **query)
        walk(em, plain, **query)


async def test_pages_are_right_after_a_snapshot_is_restored(api: Api) -> None:
    em = api.emulator
    admin = principal(em, scopes.ADMIN)
    for n in range(30):
        await em.engagements.create_engagement(
            admin, EngagementDraft("CALL", f"Call {n}", "dialer", f"call-{n}", "https://r.example.com/a.mp3")
        )
        await em.advance(1)
    assert (await api.client.post("/__admin/snapshot", json={"name": "s"})).status == 201
    before = walk(em, admin, limit=7)
    await em.advance(600)  # every engagement updated
    assert walk(em, admin, limit=7) != before

    assert (await api.client.post("/__admin/restore", json={"name": "s"})).status == 200

    assert walk(em, admin, limit=7) == before
