"""Generated content, derived when it is read or delivered, never stored (issue 22).

A transcript, its action items and its signals are a pure function of the seed, the engagement (workspace,
external_id, what the client submitted), its pipeline run (speakers, duration, scripted outcomes, when each stage
ran) and the content version. So the store keeps none of them: a completed engagement costs the same memory as a
pending one, and a state file never needs to hold them either. What a client wrote (a submitted timeline or
transcript, canned insights in a pipeline script) is stored, on the engagement or the run, and used as given.

Reads go through a small LRU cache (`CACHE_SIZE` engagements), so a client polling one call, or a page of calls
read twice, derives each once. Derived ids are a hash of (seed, engagement, kind, position) in ULID form, with the
stage's virtual time as their time part: the same on every read, and independent of what else drew ids meanwhile.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, cast

from . import content
from .ids import PAIRS, ulid
from .models import ActionItem, Engagement, Signal, Tag, TranscriptTimeline
from .pipeline import Pipeline, PipelineRun
from .records import dataclass
from .seeded import Draws
from .vocabulary import vocabulary

CACHE_SIZE = 512  # engagements whose derived content is kept (a few KB each)
_DAY_MS = 86_400_000
_FIRST_HALF = (1 << 79) - 1  # room to count up from the hash without wrapping
_LAST_TWO = PAIRS  # a ULID's last two digits for each value of its lowest 10 bits


@dataclass(slots=True)
class _Derived:
    """One engagement's content as far as it has been asked for; valid while `run` is the engagement's run."""

    run: PipelineRun
    timeline: TranscriptTimeline | None = None
    drafts: content.InsightDrafts | None = None
    action_items: list[ActionItem] | None = None
    signals: list[Signal] | None = None


class DerivedContent:
    """The transcript, action items and signals an engagement shows now, given which stages have run."""

    def __init__(self, *, seed: int, pipeline: Pipeline, cache_size: int = CACHE_SIZE) -> None:
        self._seed = seed
        self._pipeline = pipeline
        self._cache_size = cache_size
        self._cache: OrderedDict[str, _Derived] = OrderedDict()

    def clear(self) -> None:
        """Forget everything cached (reset, restore): O(1), the old entries are freed with the dict."""
        self._cache = OrderedDict()

    def has_transcript(self, e: Engagement) -> bool:
        run = self._pipeline.runs.get(e.id)
        return run is not None and _transcribed(run)

    def timeline(self, e: Engagement) -> TranscriptTimeline | None:
        """The transcript timeline once the transcript stage ran (and did not fail), else None."""
        run = self._pipeline.runs.get(e.id)
        if run is None or not _transcribed(run):
            return None
        return self._timeline(e, run, self._entry(e, run))

    def action_items(self, e: Engagement) -> list[ActionItem]:
        run = self._pipeline.runs.get(e.id)
        if run is None or "action_items" not in run.done_at:
            return []
        entry = self._entry(e, run)
        if entry.action_items is None:
            entry.action_items = self._make_action_items(e, run, entry)
        return entry.action_items

    def signals(self, e: Engagement) -> list[Signal]:
        run = self._pipeline.runs.get(e.id)
        if run is None or "signals" not in run.done_at:
            return []
        entry = self._entry(e, run)
        if entry.signals is None:
            entry.signals = self._make_signals(e, run, entry)
        return entry.signals

    # Cache --------------------------------------------------------------------------------------

    def _entry(self, e: Engagement, run: PipelineRun) -> _Derived:
        entry = self._cache.get(e.id)
        if entry is not None and entry.run is run:
            self._cache.move_to_end(e.id)
            return entry
        entry = self._cache[e.id] = _Derived(run)
        self._cache.move_to_end(e.id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return entry

    # Derivation ---------------------------------------------------------------------------------

    def _draws(self, e: Engagement, part: str) -> Draws:
        return Draws(self._seed, e.workspace_id, e.external_id, part, content.CONTENT_VERSION)

    def _timeline(self, e: Engagement, run: PipelineRun, entry: _Derived) -> TranscriptTimeline:
        if entry.timeline is None:
            entry.timeline = self._make_timeline(e, run)
        return entry.timeline

    def _make_timeline(self, e: Engagement, run: PipelineRun) -> TranscriptTimeline:
        if e.submitted_timeline is not None:
            return e.submitted_timeline
        # A submitted plain `transcript` is supplementary text stored beside the media, which is still transcribed
        # (create engagement; issue 20 §6): it never replaces the timeline.
        draws, vocab = self._draws(e, "timeline"), vocabulary(self._seed)
        speakers = content.speakers_for(run.speakers, run.owner, draws, vocab)
        return content.generate_timeline(speakers, run.duration, draws, vocab)

    def auto_tags(self, e: Engagement, tags: Iterable[Tag]) -> list[str]:
        """The workspace tags the analysis applies ("tagging always runs", create engagement; issue 20 §7).

        Among the tags with auto-tagging enabled: every one whose name occurs in the call (its transcript and any
        supplementary text a client submitted), as whole words, any case. When none does, the one a hash of the
        seed and the transcript picks stands for the call's topic, so every processed call is tagged while the
        workspace has a tag to give. Deterministic: one seed and call, one set (emulator choice).
        """
        eligible = sorted((t for t in tags if t.auto_tagging_enabled and t.deleted_at is None), key=lambda t: t.id)
        timeline = self.timeline(e)
        if not eligible or timeline is None:
            return []
        text = " ".join([*(entry.text for entry in timeline.entries), e.submitted_transcript or ""]).casefold()
        # The substring test first: the whole-word regex scans the whole transcript (~0.1 ms a tag), and it can only
        # match where the name occurs at all.
        named = [
            t.id
            for t in eligible
            if (name := t.name.casefold()) in text and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text)
        ]
        if named:
            return named
        digest = hashlib.blake2b(f"{self._seed}:{e.id}:tags:{text}".encode(), digest_size=8).digest()
        return [eligible[int.from_bytes(digest, "big") % len(eligible)].id]

    def _assignee(self, e: Engagement, timeline: TranscriptTimeline, speaker_index: int) -> str:
        speaker = next((s for s in timeline.speakers if s.speaker_index == speaker_index), None)
        return speaker.user_id if speaker and speaker.user_id else e.owner_user_id

    def _make_action_items(self, e: Engagement, run: PipelineRun, entry: _Derived) -> list[ActionItem]:
        outcome: Any = run.overrides.action_items
        if outcome == "failed":
            return []
        created = run.done_at["action_items"]
        if isinstance(outcome, list):
            ids = self._ids("actitm", e, created, len(outcome))
            return [
                ActionItem(
                    ids[i],
                    e.id,
                    str(item.get("title", "Follow up")),
                    item.get("description"),
                    item.get("assignee_user_id", e.owner_user_id),
                    item.get("due_at"),
                    created,
                )
                for i, item in enumerate(outcome)
            ]
        timeline, drafts = self._drafts(e, run, entry)
        ids = self._ids("actitm", e, created, len(drafts.action_items))
        end = e.end_at or e.start_at
        return [
            ActionItem(
                ids[i],
                e.id,
                d.title,
                d.description,
                self._assignee(e, timeline, d.speaker_index),
                _next_weekday_5pm(end, d.due_weekday),
                created,
            )
            for i, d in enumerate(drafts.action_items)
        ]

    def _make_signals(self, e: Engagement, run: PipelineRun, entry: _Derived) -> list[Signal]:
        outcome: Any = run.overrides.signals
        if outcome == "failed":
            return []
        created = run.done_at["signals"]
        timeline, drafts = self._drafts(e, run, entry)
        if isinstance(outcome, list):
            first = timeline.entries[0]
            defaults = {
                "type": "next_step",
                "label": "Next step agreed",
                "quote": first.text,
                "speaker_index": first.speaker_index,
                "start_seconds": first.start_seconds,
                "confidence": 0.9,
            }  # in SignalDraft's order: a scripted item's fields replace these in place
            signals = [
                cast(
                    content.SignalDraft,
                    tuple({**defaults, **{k: v for k, v in item.items() if k in defaults}}.values()),
                )
                for item in outcome
            ]
        else:
            signals = drafts.signals
        ids = self._ids("sgnl", e, created, len(signals))
        eid = e.id
        return [Signal(ids[i], eid, d[0], d[1], d[2], d[3], d[4], d[5], created) for i, d in enumerate(signals)]

    def _drafts(
        self, e: Engagement, run: PipelineRun, entry: _Derived
    ) -> tuple[TranscriptTimeline, content.InsightDrafts]:
        """The timeline and both insights' drafts, made in one pass the first time either insight is asked for."""
        assert _transcribed(run), "insight stages run only after a transcript"
        timeline = self._timeline(e, run, entry)
        if entry.drafts is None:
            entry.drafts = content.derive_insights(timeline, self._draws(e, "insights"))
        return timeline, entry.drafts

    def _ids(self, prefix: str, e: Engagement, ms: int, count: int) -> list[str]:
        """Ids of an engagement's `count` items of one kind: a hash of (seed, engagement, kind) as the random part,
        plus the position (a monotonic ULID run: one hash per list, sorted as listed)."""
        digest = hashlib.blake2b(f"{self._seed}:{e.id}:{prefix}".encode(), digest_size=10).digest()
        base = int.from_bytes(digest, "big") & _FIRST_HALF
        low = base & 1023
        if low + count <= 1024:  # only the last two digits (the lowest 10 bits) differ: encode the rest once
            head = f"{prefix}_{ulid(ms, base)[:-2]}"
            return [head + _LAST_TWO[low + i] for i in range(count)]
        return [f"{prefix}_{ulid(ms, base + i)}" for i in range(count)]


def _transcribed(run: PipelineRun) -> bool:
    """The transcript stage ran and produced a transcript (a scripted failure leaves none)."""
    return "transcript" in run.done_at and run.overrides.transcription != "failed"


def _next_weekday_5pm(after_ms: int, weekday: int | None) -> int | None:
    """Due date for "by Friday": the next such weekday after the call, 17:00 UTC."""
    if weekday is None:
        return None
    day_start = after_ms - after_ms % _DAY_MS
    # 1970-01-01 was a Thursday (weekday 3).
    today = (day_start // _DAY_MS + 3) % 7
    days = (weekday - today) % 7 or 7
    return day_start + days * _DAY_MS + 17 * 3_600_000
