"""What a create computes is what the plain way computes (issue 22 §2: the create path's shortcuts).

The oracles are random.Random seeded with the same text and drawn from as before, and the pipeline's own plan.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from fake_askelephant.core import content, scopes, views
from fake_askelephant.core.models import EngagementDraft, Principal
from fake_askelephant.core.pipeline import JITTER_S
from tests.conftest import Api

TEXTS = ["", "1:media:https://recordings.example.com/a.mp3", "7:wrks_local:ext-1:jitter", "ünïcödé:☎:" * 40]


@pytest.mark.parametrize("text", TEXTS)
def test_reseed_gives_the_state_random_random_gives(text: str) -> None:
    rng = random.Random("something else first")
    rng.random()
    content.reseed(rng, text)
    assert rng.getstate() == random.Random(text).getstate()


def test_media_duration_is_randint_of_the_seeded_stream() -> None:
    kept = random.Random()
    for n in range(400):  # randint's rejection loop runs for ~44 % of them
        url = f"https://recordings.example.com/{n}.mp3"
        expected = random.Random(content.seed_text(3, "media", url)).randint(60, 1200)
        assert content.media_duration(3, url) == expected
        assert content.media_duration(3, url, kept) == expected


async def test_a_create_seeds_one_stream_and_the_jitter_is_drawn_when_first_read(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seeding a Mersenne Twister is a good share of a create: the media duration's stream is seeded during it, the
    pipeline jitter's when something reads it (here the scheduler, asked when the next stage is due: the processing
    stages are queued at their earliest, t0 + 2 s, and placed at their planned time when they come up)."""
    seeded: list[str] = []
    reseed = content.reseed

    def counting(rng: random.Random, text: str) -> None:
        seeded.append("media" if ":media:" in text else text.rsplit(":", 1)[-1])
        reseed(rng, text)

    monkeypatch.setattr(content, "reseed", counting)
    for external_id in ("plain-1", "plain-2"):
        assert (await api.create(external_id=external_id)).status == 201
    await asyncio.sleep(0.01)  # the ticker of the frozen clock had its turns: it asks nothing of the jitter
    assert seeded == ["media", "media"]
    em = api.emulator
    due = em.scheduler.next_due_ms()
    assert seeded[2:] == ["jitter", "jitter"]  # both stages could come up first: each placed at its own time
    for run in em.pipeline.runs.values():
        e = em.store.find_engagement(run.workspace_id, run.engagement_id)
        assert e is not None
        oracle = random.Random(content.seed_text(em.seed, e.workspace_id, e.external_id, "jitter"))
        assert run.jitter == {stage: oracle.uniform(lo, hi) for stage, (lo, hi) in JITTER_S.items()}
        [(stage, job)] = run.jobs.items()
        assert (stage, job.seq) == ("processing", run.seq0)
    assert due == min(run.plan()["processing"] for run in em.pipeline.runs.values())
    assert len(seeded) == 4


async def test_the_create_response_is_the_created_events_view(api: Api) -> None:
    body = await (await api.create()).json()
    [event] = [e for e in api.emulator.bus.log if e.type == "v1.engagement.created"]
    assert body == event.object
    e = api.emulator.store.find_engagement("wrks_local", body["id"])
    assert e is not None
    assert views.engagement(e) == body  # what a read renders


async def test_a_create_hands_back_its_events_view_and_a_replay_renders_the_stored_one(api: Api) -> None:
    """The service returns the view it published (rendered once, no module-level memo); later changes render anew
    and leave the event's object as it was."""
    em = api.emulator
    principal = Principal("wrks_local", "usr_local", frozenset(scopes.ALL), "test")
    draft = EngagementDraft("CALL", "Call", "test", "view-1", "https://recordings.example.com/v.mp3")
    e, created, view = await em.engagements.create_engagement(principal, draft)
    [event] = [ev for ev in em.bus.log if ev.type == "v1.engagement.created"]
    assert created and view is event.object
    em.changes.change(e, title="Renamed")
    again = await em.engagements.create_engagement(principal, draft)
    assert (again.engagement, again.created) == (e, False)
    assert again.view == views.engagement(e) and again.view["title"] == "Renamed"
    assert event.object["title"] == "Call"


async def test_the_owner_read_off_the_matched_participants_is_the_one_the_lookups_give(api: Api) -> None:
    """The owner comes from the participants' matched users (by email, else phone) unless that user may not own:
    then from the two lookups again, email first (api.md §5)."""
    from fake_askelephant.core.users import NewUser

    users = api.emulator.users
    agent = users.ensure_user("wrks_local", NewUser("agent@example.com", "Agent", "A", "MEMBER", "+15550001"))
    gone = users.ensure_user("wrks_local", NewUser("gone@example.com", "Gone", "G", "INACTIVE", "+15550002"))
    cases = [
        ([{"email": gone.email, "phone": agent.phone, "is_owner": True}], agent.id),  # inactive by email, phone ok
        ([{"email": "nobody@example.com", "phone": gone.phone, "is_owner": True}], "usr_local"),
        ([{"email": agent.email}, {"email": gone.email, "is_owner": True}], "usr_local"),
        ([{"phone": agent.phone, "is_owner": True}], agent.id),
    ]
    for n, (participants, owner) in enumerate(cases):
        body = await (await api.create(external_id=f"owner-{n}", participants=participants)).json()
        assert (n, body["owner_user_id"]) == (n, owner)
