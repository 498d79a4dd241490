"""What a create computes is what the plain way computes (issue 22 §2: the create path's shortcuts).

The oracles are random.Random seeded with the same text and drawn from as before, and the pipeline's own plan.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from fake_askelephant.core import content, views
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


async def test_a_new_run_draws_its_jitter_and_queues_its_first_stage_as_planned(api: Api) -> None:
    for external_id in ("plain-1", "plain-2"):
        assert (await api.create(external_id=external_id)).status == 201
    em = api.emulator
    for run in em.pipeline.runs.values():
        e = em.store.find_engagement(run.workspace_id, run.engagement_id)
        assert e is not None
        oracle = random.Random(content.seed_text(em.seed, e.workspace_id, e.external_id, "jitter"))
        assert run.jitter == {stage: oracle.uniform(lo, hi) for stage, (lo, hi) in JITTER_S.items()}
        [(stage, job)] = run.jobs.items()
        assert (stage, job.due_ms, job.seq) == ("processing", run.plan()["processing"], run.seq0)


async def test_the_create_response_is_the_created_events_view_rendered_once(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[str] = []
    render = views._engagement

    def counting(e: Any) -> dict[str, Any]:
        rendered.append(e.id)
        return render(e)

    monkeypatch.setattr(views, "_engagement", counting)
    body = await (await api.create()).json()
    [event] = [e for e in api.emulator.bus.log if e.type == "v1.engagement.created"]
    assert body == event.object
    assert rendered == [body["id"]]  # the event's view, copied for the response


async def test_a_published_view_is_copied_and_a_change_renders_anew(api: Api) -> None:
    body = await (await api.create()).json()
    e = api.emulator.store.find_engagement("wrks_local", body["id"])
    assert e is not None
    [event] = [ev for ev in api.emulator.bus.log if ev.type == "v1.engagement.created"]
    mine = views.engagement(e)
    mine["changed by the caller"] = True
    assert "changed by the caller" not in views.engagement(e)
    assert "changed by the caller" not in event.object
    api.emulator.changes.change(e, title="Renamed")
    assert views.engagement(e)["title"] == "Renamed"
    assert event.object["title"] == body["title"]


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
