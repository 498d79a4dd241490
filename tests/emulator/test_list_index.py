"""The filter indexes of the engagement list (core/engagement_order.py: postings per value, a search text per
chunk; issue 22 §4): pages must be exactly those of a plain linear filter of the workspace, through every kind of
change, and a cold sparse query must read about as many records as it matches, not the workspace."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import example, given, settings
from hypothesis import strategies as st

from fake_askelephant.api.context import emulator_key
from fake_askelephant.app import create_app
from fake_askelephant.core import engagement_order, scopes, sorted_keys
from fake_askelephant.core import engagements as engagements_module
from fake_askelephant.core.crm import CrmRef
from fake_askelephant.core.engagements import NOTES_PER_REQUEST, EngagementQuery, _resolved_buckets, can_view
from fake_askelephant.core.models import CrmAssociation, Engagement, EngagementDraft, Participant, Principal
from fake_askelephant.core.paging import TimeRange, paginate
from fake_askelephant.core.users import NewUser
from fake_askelephant.emulator import Emulator
from tests.conftest import T0, Api, frozen_settings, seed_call
from tests.emulator.test_list_order import CountingRecords, counted_walk, principal

WS = "wrks_local"
URL = "https://r.example.com/a.mp3"
# Titles and needles that fold in every way casefold does: ß → ss, Σ/ς → σ, the ﬁ ligature → fi, İ → i̇ (two
# code points), and the separator the search text puts between titles ("\n"), inside titles and needles.
WORDS = ["alpha", "Beta", "STRASSE", "straße", "ΣΑΣ", "σας", "x\ny", "İstanbul", "ﬁle", "zeta", "a"]
NEEDLES = ["a", "ss", "ß", "σ", "\n", "y\nx", "a\nb", "fi", "i̇", "beta", "ZETA", "e\nB", "traße", "Ta"]
EMAILS = ["p0@customer.example", "p1@customer.example", "p2@other.example", "stranger@example.com"]
STATUSES = ["PENDING", "PROCESSING", "COMPLETED", "FAILED"]
TYPES = ["CALL", "MEETING", "EMAIL"]

title = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)
index = st.integers(0, 10**6)
ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("create"),
            st.sampled_from(TYPES),
            title,
            st.lists(st.sampled_from(EMAILS), max_size=2, unique=True),
            st.booleans(),
        ),
        st.tuples(st.just("rename"), index, title),
        st.tuples(st.just("status"), index, st.sampled_from(STATUSES)),
        st.tuples(st.just("type"), index, st.sampled_from(TYPES)),
        st.tuples(
            st.just("crm"),
            index,
            st.none() | st.tuples(st.sampled_from(["deal", "DEAL", "contact", "company"]), st.sampled_from("12")),
        ),
        st.tuples(st.just("link"), index, st.lists(index, max_size=3)),
        st.tuples(st.just("delete"), index),
        st.tuples(st.just("advance"), st.sampled_from([0.001, 1, 30, 200])),
        st.tuples(st.just("reset")),
    ),
    min_size=5,
    max_size=50,
)
FILTERS = {
    "search": st.sampled_from(NEEDLES),
    "processing_statuses": st.frozensets(st.sampled_from(STATUSES), min_size=1),
    "engagement_types": st.frozensets(st.sampled_from(TYPES), min_size=1),
    "contact_ids": st.lists(index, min_size=1, max_size=2),
    "company_ids": st.lists(index, min_size=1, max_size=2),
    "crm_associations": st.lists(
        st.tuples(st.sampled_from("12"), st.sampled_from(["deal", "contact", "company"])), min_size=1, max_size=3
    ),
    "updated_at": st.tuples(st.integers(0, 300_000), st.integers(0, 300_000)),
}
# At most two filters (more and most queries match nothing, which proves little); a search in half of them.
queries = st.tuples(
    st.integers(1, 4),
    st.sampled_from(["updated_at:desc", "updated_at:asc"]),
    st.booleans(),
    st.lists(st.sampled_from(sorted(FILTERS)), max_size=2, unique=True),
).flatmap(
    lambda drawn: st.fixed_dictionaries(
        {
            "limit": st.just(drawn[0]),
            "order": st.just(drawn[1]),
            **{name: FILTERS[name] for name in {*drawn[3][: 1 if drawn[2] else 2], *(["search"] if drawn[2] else [])}},
        }
    )
)


def linear(em: Emulator, who: Principal, query: EngagementQuery) -> tuple[list[str], Any]:
    """The oracle: every record of the workspace checked one by one, sorted (what listing did before any index).
    CRM entries resolve through the directory as listing resolves them."""
    ws = em.store.workspace(WS)
    q = replace(query, buckets=_resolved_buckets(ws.directory, query))
    items = [e for e in list(ws.engagements.values()) if can_view(who, e) and q.matches(e)]
    page = paginate(items, lambda e: (e.updated_at, e.id), order=q.order, limit=q.limit, after=q.after)
    return [e.id for e in page.items], page.next_after


def concrete(em: Emulator, spec: dict[str, Any]) -> EngagementQuery:
    """A drawn query with ids picked from the workspace as it is now (unknown ids when it has none)."""
    d = em.store.workspace(WS).directory
    contacts, companies = sorted(d.contacts) or ["cnt_none"], sorted(d.companies) or ["cmp_none"]
    fields = dict(spec)
    if "contact_ids" in fields:
        fields["contact_ids"] = frozenset(contacts[i % len(contacts)] for i in fields["contact_ids"])
    if "company_ids" in fields:
        fields["company_ids"] = frozenset(companies[i % len(companies)] for i in fields["company_ids"])
    if "crm_associations" in fields:
        fields["crm_associations"] = tuple(CrmRef(i, t) for i, t in fields["crm_associations"])
    if "updated_at" in fields:
        a, b = fields["updated_at"]
        fields["updated_at"] = TimeRange(gte=T0 + min(a, b), lt=T0 + max(a, b) + 1)
    return EngagementQuery(**fields)


def check_every_page(em: Emulator, who: Principal, query: EngagementQuery) -> None:
    after = None
    for _ in range(500):
        q = replace(query, after=after)
        got = em.engagements.list_engagements(who, q)
        assert ([e.id for e in got.items], got.next_after) == linear(em, who, q), q
        if got.next_after is None:
            return
        after = got.next_after
    raise AssertionError("the walk does not end")


async def run(steps: list[tuple[Any, ...]], drawn: list[dict[str, Any]]) -> None:
    app = create_app(frozen_settings())
    em: Emulator = app[emulator_key]
    admin = principal(em, scopes.ADMIN)
    stranger = principal(em, scopes.ENGAGEMENTS_READ, user=NewUser("stranger@example.com"))
    live: list[Engagement] = []
    made = 0

    async def create(kind: str, name: str, emails: list[str], private: bool) -> None:
        nonlocal made
        made += 1
        people = tuple(Participant(email=m) for m in emails)
        draft = EngagementDraft(kind, name, "d", f"c-{made}", URL, is_private=private, participants=people)
        live.append((await em.engagements.create_engagement(admin, draft))[0])

    for n in range(6):
        await create(TYPES[n % 3], WORDS[n], EMAILS[n % 3 : n % 3 + 1], n % 4 == 0)
    for step in steps:
        op, args = step[0], step[1:]
        target = live[args[0] % len(live)] if live and op in ("rename", "status", "type", "crm", "link") else None
        if op == "create":
            await create(*args)
        elif op == "rename" and target is not None:
            em.changes.change(target, title=args[1])
        elif op == "status" and target is not None:
            em.changes.change(target, processing_status=args[1])
        elif op == "type" and target is not None:
            em.changes.change(target, engagement_type=args[1])
        elif op == "crm" and target is not None:
            em.changes.change(target, crm_association=CrmAssociation(*args[1]) if args[1] else None)
        elif op == "link" and target is not None:
            contacts = sorted(em.store.workspace(WS).directory.contacts)
            picked = [contacts[i % len(contacts)] for i in args[1]] if contacts else []
            em.engagements.replace_engagement_contacts(admin, target.id, picked)
        elif op == "delete" and live:
            em.engagements.delete_engagement(live.pop(args[0] % len(live)))
        elif op == "advance":
            await em.advance(args[0])
        elif op == "reset":
            em.reset(WS)
            live.clear()
        # After every change: what a change leaves stale (a posting, a chunk's search text, a remembered result)
        # shows in the next query.
        for spec in drawn:
            check_every_page(em, admin, concrete(em, spec))
            check_every_page(em, stranger, concrete(em, spec))


DESC = "updated_at:desc"


@settings(max_examples=150)
@given(
    steps=ops,
    drawn=st.lists(queries, min_size=1, max_size=4),
    load=st.sampled_from([2, 3, 512]),
    notes=st.sampled_from([NOTES_PER_REQUEST, 0]),
)
# A search after a bulk change (no chunk text may be built) finds renamed titles, not deleted ones, and none of a
# reset workspace: the titles' own text (TitleText) follows each, across segments of two and the packing of holes.
@example(
    [("rename", 1, "zeta"), ("delete", 0), ("delete", 0), ("delete", 0), ("delete", 1), ("rename", 0, "ﬁle zeta")],
    [{"limit": 1, "order": DESC, "search": "zeta"}, {"limit": 2, "search": "fi"}],
    2,
    0,
)
@example([("advance", 200), ("reset",), ("create", "CALL", "zeta", [], False)], [{"search": "ZETA"}], 3, 0)
# A title changed within the millisecond (the key stays): its chunk's search text must not.
@example(
    [("status", 0, "FAILED"), ("rename", 1, "zeta")],
    [{"limit": 2, "order": DESC, "search": "zeta"}],
    512,
    NOTES_PER_REQUEST,
)
# A deleted engagement leaves its contacts' postings (the first six are linked to three contacts).
@example(
    [("delete", 0), ("delete", 0)],
    [{"limit": 1, "order": DESC, "contact_ids": [i]} for i in range(3)],
    3,
    NOTES_PER_REQUEST,
)
# A status or type changed within the millisecond: the code beside the key follows.
@example(
    [("status", 2, "FAILED"), ("type", 4, "EMAIL")],
    [
        {"limit": 2, "order": DESC, "processing_statuses": frozenset({"FAILED"})},
        {"engagement_types": frozenset({"EMAIL"})},
    ],
    512,
    NOTES_PER_REQUEST,
)
# Links changed within the millisecond: the postings follow them.
@example(
    [("link", 3, [0, 1, 2]), ("crm", 1, ("deal", "1"))],
    [{"limit": 1, "order": DESC, "contact_ids": [i]} for i in range(3)]
    + [{"limit": 1, "order": DESC, "crm_associations": [("1", "deal")]}],
    512,
    NOTES_PER_REQUEST,
)
# A needle that holds the separator, found across two titles, is no hit (and the casefolded text is longer).
@example(
    [("rename", 2, "x\ny STRASSE")],
    [{"limit": 3, "order": DESC, "search": "y\nx"}, {"search": "ss"}],
    2,
    NOTES_PER_REQUEST,
)
def test_indexed_pages_equal_a_linear_filter_through_random_changes(
    steps: list[tuple[Any, ...]], drawn: list[dict[str, Any]], load: int, notes: int
) -> None:
    # Small chunks and title segments: splits, empty chunks and many search texts, each cleared by the changes
    # around it. No notes per request: every search that would build one asks the titles' text instead (TitleText,
    # what a search after a bulk change does), through renames, deletes (and the packing of their holes) and resets.
    with (
        mock.patch.object(sorted_keys, "LOAD", load),
        mock.patch.object(engagement_order, "_SEGMENT", load),
        mock.patch.object(engagements_module, "NOTES_PER_REQUEST", notes),
    ):
        asyncio.run(run(steps, drawn))


# Reads, counted ------------------------------------------------------------------------------------------


def fill_directly(em: Emulator, n: int) -> None:
    """n engagements straight into the store (the service's create is ~100× slower): 1 in 500 titled 'zebra',
    1 in 400 linked to one contact and company, 1 in 1,000 with a CRM deal, 1 in 700 FAILED."""
    for i in range(n):
        linked = i % 400 == 5
        e = Engagement(
            id=f"ngmt_{i:06d}",
            workspace_id=WS,
            title=f"Call {i}" + (" Zebra" if i % 500 == 7 else ""),
            engagement_type="MEETING" if i % 4 == 0 else "CALL",
            processing_status="FAILED" if i % 700 == 3 else "COMPLETED",
            is_private=False,
            is_internal=False,
            created_at=T0,
            updated_at=T0 + i,
            start_at=T0,
            owner_user_id="usr_local",
            host_user_id="usr_local",
            source_system="d",
            external_id=f"x-{i}",
            contact_ids=["cnt_one"] if linked else [],
            company_ids=["cmp_one"] if linked else [],
            crm_association=CrmAssociation("deal", "d1") if i % 1000 == 9 else None,
        )
        em.store.insert_engagement(e)


async def test_a_cold_sparse_query_reads_o_matches_records_not_the_workspace(api: Api) -> None:
    em = api.emulator
    admin = principal(em, scopes.ADMIN)
    n = 40_000
    fill_directly(em, n)
    ws = em.store.workspace(WS)
    records = ws.engagements = CountingRecords(ws.engagements)
    chunk = 2 * sorted_keys.LOAD  # the most keys one chunk holds
    probe = ws.engagements["ngmt_000123"]
    # No chunk has its search text yet (as after a bulk change): a sparse search builds at most NOTES_PER_REQUEST
    # chunks' texts, then finds its candidates in the titles' own text (TitleText) and reads only those (80 here),
    # not the workspace; the chunk texts fill in over the next requests.
    warming: list[dict[str, Any]] = [{"search": "zebra"}]
    for query in warming:
        records.read = 0
        em.engagements.list_engagements(admin, EngagementQuery(limit=25, **query))
        assert records.read <= NOTES_PER_REQUEST * chunk + 2 * (n // 500)
        for _ in range(2 * n // (NOTES_PER_REQUEST * sorted_keys.LOAD) + 2):
            em.changes.change(probe, title=probe.title)
            _, read = counted_walk(em, admin, records, limit=25, **query)
            if read < chunk + 200:
                break
        assert read < chunk + 200  # every chunk has its note: a walk reads the matches, not the workspace
    sparse: list[dict[str, Any]] = [
        {"search": "zebra"},  # 80
        {"search": "ZEBRA", "engagement_types": frozenset({"CALL"})},
        {"contact_ids": frozenset({"cnt_one"})},  # 100
        {"company_ids": frozenset({"cmp_one"}), "order": "updated_at:asc"},
        {"crm_associations": (CrmRef("d1", "deal"),)},  # 40
        {"processing_statuses": frozenset({"FAILED"})},  # 58
        {"processing_statuses": frozenset({"FAILED", "PENDING"}), "engagement_types": frozenset({"CALL"})},
    ]
    for query in sparse:
        em.changes.change(probe, title=probe.title)  # cold: nothing remembered survives a change
        records.read = 0
        em.engagements.list_engagements(admin, EngagementQuery(limit=25, **query))
        first_page = records.read
        pages, walked = counted_walk(em, admin, records, limit=10, **query)
        matches = sum(map(len, pages))
        assert 10 <= matches <= 200, query
        # A search rebuilds the text of the one chunk the change touched (on the first page or later in the walk);
        # every other read is a record that may match.
        assert first_page <= chunk + 2 * matches, (query, first_page)
        assert walked <= chunk + 2 * matches + len(pages), (query, walked)
        assert len(pages) == -(-matches // 10)
    # A dense filter's first page is a page.
    dense: list[dict[str, Any]] = [
        {"engagement_types": frozenset({"MEETING"})},
        {"processing_statuses": frozenset({"COMPLETED"})},
    ]
    for query in dense:
        em.changes.change(probe, title=probe.title)
        records.read = 0
        em.engagements.list_engagements(admin, EngagementQuery(limit=25, **query))
        assert records.read <= 26, query


async def test_filtered_pages_after_a_restart_a_snapshot_restore_and_a_reset(
    make_api: Callable[..., Any], tmp_path: Path
) -> None:
    """The indexes are derived, never saved: rebuilt when a state file loads and when a snapshot is restored,
    emptied by a reset."""
    settings = frozen_settings(state_file=str(tmp_path / "state.sqlite"))
    first: Api = await make_api(settings)
    people = [{"email": "ada@customer.example", "name": "Ada"}]
    for i in range(40):
        body = seed_call(external_id=f"r-{i}", title=f"Call {i}" + (" Zebra" if i % 7 == 0 else ""))
        if i % 5 == 0:
            body["participants"] = people
        assert (await first.create(body)).status == 201
        await first.advance(1)
    em = first.emulator
    admin = principal(em, scopes.ADMIN)
    em.changes.change(next(iter(em.store.workspace(WS).engagements.values())), processing_status="FAILED")
    linked = em.store.find_by_external_id(WS, "r-5")
    assert linked is not None and linked.contact_ids
    contact = linked.contact_ids[0]
    wanted = [
        EngagementQuery(limit=3, search="zebra"),
        EngagementQuery(limit=3, contact_ids=frozenset({contact})),
        EngagementQuery(limit=3, processing_statuses=frozenset({"FAILED"})),
        EngagementQuery(limit=3, search="ZEB", order="updated_at:asc", engagement_types=frozenset({"CALL"})),
    ]

    def pages(em: Emulator) -> list[list[str]]:
        out = []
        for query in wanted:
            check_every_page(em, admin, query)  # and equal to the linear filter
            out.append([e.id for e in em.engagements.list_engagements(admin, query).items])
        return out

    before = pages(em)
    assert all(before)
    assert (await first.client.post("/__admin/snapshot", json={"name": "s"})).status == 201
    await first.client.close()

    second: Api = await make_api(settings)
    em = second.emulator
    admin = principal(em, scopes.ADMIN)
    assert pages(em) == before  # rebuilt from the state file
    for e in list(em.store.workspace(WS).engagements.values())[:20]:
        em.changes.change(e, title="Renamed", processing_status="COMPLETED", contact_ids=[])
    assert pages(em) != before
    assert (await second.client.post("/__admin/restore", json={"name": "s"})).status == 200
    assert pages(em) == before  # rebuilt from the snapshot
    em.reset(WS)
    assert pages(em) == [[], [], [], []]
    assert (await second.create(seed_call(external_id="after", title="Zebra again"))).status == 201
    assert [e.title for e in em.engagements.list_engagements(admin, wanted[0]).items] == ["Zebra again"]
