"""Engagement pages come from kept (updated_at, id) orders, overall and per filter value (core/engagement_order.py);
they must equal sorting the workspace's matches (api.md §8), for every filter and every page."""

from __future__ import annotations

import random
from typing import Any

from fake_askelephant.core import scopes
from fake_askelephant.core.crm import CrmRef
from fake_askelephant.core.engagements import WALK_EXTRA, WALK_PER_ITEM, EngagementQuery, can_view
from fake_askelephant.core.models import CrmAssociation, Engagement, EngagementDraft, Participant, Principal
from fake_askelephant.core.paging import Page, TimeRange, paginate
from fake_askelephant.core.users import NewUser
from fake_askelephant.emulator import Emulator
from tests.conftest import T0, Api

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
    {"limit": 3, "search": "call 37"},  # sparse: every match found once, then pages from that list
    {"limit": 2, "search": "zeta"},
    {"limit": 3, "search": "ZETA", "order": "updated_at:asc", "processing_statuses": frozenset({"COMPLETED"})},
    {"limit": 4, "search": "ALL 1", "order": "updated_at:asc"},
    {"limit": 5, "engagement_types": frozenset({"MEETING"})},
    {"limit": 5, "processing_statuses": frozenset({"COMPLETED", "FAILED"})},
    {"limit": 6, "processing_statuses": frozenset({"PENDING"}), "engagement_types": frozenset({"CALL"})},
    {"limit": 4, "updated_at": TimeRange(gte=T0 + 60_000, lt=T0 + 400_000)},
    {"limit": 4, "updated_at": TimeRange(gt=T0, lte=T0 + 100_000), "order": "updated_at:asc"},
    {"limit": 3, "start_at": TimeRange(lte=T0 + 2_000)},
    {"limit": 100},
]
URL = "https://r.example.com/a.mp3"
EMAILS = [f"p{n}@customer.example" for n in range(6)]


def contact_queries(emulator: Emulator) -> list[dict[str, Any]]:
    """Filters naming the workspace's contacts and companies as they are now (participants become contacts), and
    CRM entries (engagements' own associations)."""
    directory = emulator.store.workspace(WS).directory
    contacts, companies = sorted(directory.contacts), sorted(directory.companies)
    crm: list[dict[str, Any]] = [
        {"limit": 3, "crm_associations": (CrmRef("d1", "deal"),)},
        {"limit": 4, "crm_associations": (CrmRef("d2", "deal"), CrmRef("d1", "contact")), "order": "updated_at:asc"},
    ]
    crm += [{"limit": 2, "company_ids": frozenset(companies[:1])}] if companies else []
    if len(contacts) < 2:
        return crm
    return [
        *crm,
        {"limit": 3, "contact_ids": frozenset(contacts[:1])},
        {"limit": 5, "contact_ids": frozenset(contacts[:3]), "order": "updated_at:asc"},
        {"limit": 2, "contact_ids": frozenset(contacts[1:2]), "processing_statuses": frozenset({"COMPLETED"})},
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
                f"Call {n} " + ("Zeta" if rng.random() < 0.04 else rng.choice(["alpha", "beta"])),
                "dialer",
                f"call-{n}",
                "https://r.example.com/a.mp3",
                is_private=rng.random() < 0.2,
                participants=tuple(Participant(email=e) for e in rng.sample(EMAILS, rng.randrange(3))),
            )
            live.append((await em.engagements.create_engagement(admin, draft))[0])
        elif roll < 0.7:
            em.changes.change(rng.choice(live), title=f"Renamed {step}")
        elif roll < 0.75:
            deal = CrmAssociation(rng.choice(["deal", "DEAL", "contact"]), rng.choice(["d1", "d2"]))
            em.changes.change(rng.choice(live), crm_association=deal)
        elif roll < 0.85:
            gone = live.pop(rng.randrange(len(live)))
            em.engagements.delete_engagement(gone)
        else:
            await em.advance(rng.choice([0.001, 1, 30, 200]))  # pipeline stages move updated_at
        if step == 150:
            em.reset(WS)
            live.clear()
        if step % 40 == 0:
            for query in QUERIES + contact_queries(em):
                walk(em, admin, **query)
                walk(em, plain, **query)
                walk(em, stranger, **query)
    assert len(em.store.workspace(WS).engagements) > 50
    for query in QUERIES + contact_queries(em):
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


async def test_a_remembered_sparse_result_is_not_served_after_a_change(api: Api) -> None:
    em = api.emulator
    admin = principal(em, scopes.ADMIN)
    made = [
        (await em.engagements.create_engagement(admin, EngagementDraft("CALL", f"Call {n}", "d", f"c-{n}", URL)))[0]
        for n in range(300)
    ]
    em.changes.change(made[5], title="Xyzzy one")
    # Sparse: found by a scan and remembered (walk checks every page against sorting the workspace).
    assert walk(em, admin, limit=1, search="xyzzy") == [[made[5].id]]
    em.changes.change(made[9], title="Xyzzy two")  # no create, no delete: only the change may tell the order
    found = walk(em, admin, limit=1, search="xyzzy")
    assert sorted(i for page in found for i in page) == sorted([made[9].id, made[5].id])
    await em.advance(600)  # pipelines complete: statuses change
    assert len(walk(em, admin, limit=1, search="xyzzy", processing_statuses=frozenset({"COMPLETED"}))) == 2


class CountingRecords(dict[str, Engagement]):
    """A workspace's engagements that count how many records a listing reads."""

    read = 0

    def __getitem__(self, key: str) -> Engagement:
        self.read += 1
        return super().__getitem__(key)

    def values(self) -> Any:
        for e in super().values():
            self.read += 1
            yield e


async def test_a_page_reads_o_page_records_and_a_paged_walk_reads_o_n(api: Api) -> None:
    """The structural promise of issue 22 §4, counted instead of timed: a dense query's page reads about a page of
    records; a sparse one reads the workspace once, and then each of its pages reads about a page."""
    em = api.emulator
    admin = principal(em, scopes.ADMIN)
    n = 2_000
    for i in range(n):
        title = f"Call {i} " + ("Zeta" if i % 97 == 0 else "alpha")
        parts = (Participant(email=EMAILS[0]),) if i % 89 == 0 else ()
        draft = EngagementDraft("MEETING" if i % 3 else "CALL", title, "d", f"c-{i}", URL, participants=parts)
        e = (await em.engagements.create_engagement(admin, draft))[0]
        if i % 101 == 0:
            em.changes.change(e, crm_association=CrmAssociation("deal", "d1"))
    await em.advance(0.001)
    ws = em.store.workspace(WS)
    records = ws.engagements = CountingRecords(ws.engagements)
    [contact] = ws.directory.contacts
    limit = 10
    budget = WALK_PER_ITEM * (limit + 1) + WALK_EXTRA
    sparse: list[dict[str, Any]] = [
        {"search": "zeta"},
        {"contact_ids": frozenset({contact})},
        {"crm_associations": (CrmRef("d1", "deal"),)},
        {"engagement_types": frozenset({"MEETING"}), "search": "zeta"},
    ]
    dense: list[dict[str, Any]] = [
        {},
        {"order": "updated_at:asc"},
        {"engagement_types": frozenset({"MEETING"})},
        {"processing_statuses": frozenset({"PENDING", "PROCESSING"})},
        {"updated_at": TimeRange(gte=T0)},
    ]
    for query in dense:
        pages, read = counted_walk(em, admin, records, limit=limit, **query)
        assert len(pages) > 20
        assert read <= len(pages) * 3 * (limit + 1), query  # every page: about a page of records
    for query in sparse:
        pages, read = counted_walk(em, admin, records, limit=limit, **query)
        assert len(pages) >= 2
        # One bounded walk, one read of the workspace, then a page of records per page.
        assert read <= budget + n + len(pages) * (limit + 1), query
        assert pages == walk(em, admin, limit=limit, **query)


def counted_walk(
    emulator: Emulator, who: Principal, records: CountingRecords, **query: Any
) -> tuple[list[list[str]], int]:
    """Every page of a query and the number of records listing read for them."""
    pages: list[list[str]] = []
    after, records.read = None, 0
    while True:
        got = emulator.engagements.list_engagements(who, EngagementQuery(after=after, **query))
        pages.append([e.id for e in got.items])
        if not got.next_after:
            return pages, records.read
        after = got.next_after
