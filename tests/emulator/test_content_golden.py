"""Generated content stays byte-identical while its generator is optimised (issue 23 point 2).

tests/emulator/data/content_golden.json was recorded from the generator as it was before the speed work, through
the core and the views the API serves (timeline, transcript text, action items, signals, auto-applied tags): one
sha256 per engagement, for 4 seeds × 80 engagements with 0–4 participants (some of them workspace users), media of
every length the generator knows (14 to 60 lines), scripted insights and a failed transcription. A change to any
byte of any of them fails here, naming the engagements. The recording is the same on Python 3.11, 3.12 and 3.13:
it first showed that `overall_sentiment` summed floats with `sum()`, which 3.12 made compensated, so two of these
calls read 0.272 on 3.11 and 0.271 on 3.12 (now `math.fsum`, exact on every version). Re-record only with a
CONTENT_VERSION bump (docs/emulator-choices.md):

    python -m tests.emulator.test_content_golden --record
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from fake_askelephant.core import scopes, views
from fake_askelephant.core.clock import VirtualClock
from fake_askelephant.core.content import CONTENT_VERSION
from fake_askelephant.core.models import EngagementDraft, Participant
from fake_askelephant.core.pipeline import PipelineOverrides
from fake_askelephant.core.tags import TagDraft
from fake_askelephant.emulator import Emulator
from tests.conftest import T0

GOLDEN = Path(__file__).parent / "data" / "content_golden.json"
SEEDS = (1, 5, 23, 1830323367)
CALLS = 80
TAGS = ("Discovery", "Legal", "Pricing", "Renewal")  # "legal" and "pricing" occur in every generated script


def _participants(n: int) -> tuple[Participant, ...]:
    kinds = n % 5
    people = [
        Participant("Local Owner", "owner@example.com", None, True),
        Participant("Dana Prospect", f"dana{n}@prospect.example", "+15550100", False),
        Participant(None, f"only-email-{n}@prospect.example", None, False),
        Participant(None, None, "+15550199", False),
    ]
    return tuple(people[:kinds])


async def rendered(seed: int) -> dict[str, str]:
    """external_id → sha256 of everything generated for it, as the API renders it."""
    em = Emulator(seed=seed, clock=VirtualClock(T0, 0))
    key = em.create_api_key([scopes.ADMIN], "wrks_local")
    who = em.store.authenticate_key(key.token)
    assert who is not None
    for name in TAGS:
        em.tags.create_tag("wrks_local", TagDraft(name, None, None, True))
    ids = []
    for n in range(CALLS):
        draft = EngagementDraft(
            "CALL",
            f"Call {n}",
            "dialer",
            f"golden-{n}",
            f"https://recordings.example.com/{seed}/{n}.mp3",
            participants=_participants(n),
        )
        e = (await em.engagements.create_engagement(who, draft)).engagement
        ids.append(e.id)
        if n % 17 == 3:
            em.pipeline.override(e.id, PipelineOverrides(signals=[{"type": "risk", "quote": "scripted"}]))
        if n % 19 == 4:
            em.pipeline.override(e.id, PipelineOverrides(action_items=[{"title": "Scripted", "due_at": None}]))
        if n % 23 == 5:
            em.pipeline.override(e.id, PipelineOverrides(transcription="failed"))
    await em.advance(3600)
    out = {}
    for eid in ids:
        found = em.store.find_engagement("wrks_local", eid)
        assert found is not None
        e = found
        timeline = em.content.timeline(e)
        doc: dict[str, Any] = {
            "timeline": views.transcript_timeline(eid, timeline) if timeline else None,
            "transcript": views.transcript_text(timeline) if timeline else None,
            "action_items": [views.action_item(a) for a in em.content.action_items(e)],
            "signals": [views.signal(s) for s in em.content.signals(e)],
            "tag_ids": e.tag_ids,
            "status": e.processing_status,
        }
        text = json.dumps(doc, sort_keys=True, ensure_ascii=False)
        out[e.external_id] = hashlib.sha256(text.encode()).hexdigest()
    return out


async def all_rendered() -> dict[str, dict[str, str]]:
    return {str(seed): await rendered(seed) for seed in SEEDS}


async def test_generated_content_is_byte_identical_to_the_recording() -> None:
    golden = json.loads(GOLDEN.read_text())
    assert golden["content_version"] == CONTENT_VERSION, "a new content version needs a new recording"
    got = await all_rendered()
    differing = [
        f"seed {seed} {external_id}"
        for seed, digests in golden["digests"].items()
        for external_id, digest in digests.items()
        if got[seed].get(external_id) != digest
    ]
    assert not differing, f"{len(differing)} engagements render differently: {differing[:10]}"
    assert sum(len(d) for d in got.values()) == len(SEEDS) * CALLS


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    digests = asyncio.run(all_rendered())
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps({"content_version": CONTENT_VERSION, "digests": digests}, indent=1) + "\n")
    print(f"recorded {sum(len(d) for d in digests.values())} engagements to {GOLDEN}")
