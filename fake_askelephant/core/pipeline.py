"""The staged AI pipeline: processing → transcript → action items / signals → COMPLETED (pipeline.md §2–5).

Each stage is a job on the virtual-clock scheduler. Jitter comes from an RNG seeded by
(seed, workspace, external_id), so one seed gives one timeline. Overrides reschedule stages that have
not run yet; stages never reorder (a stage due before its predecessor waits for it).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Any

from . import changes as tables
from . import content
from .clock import ScheduledJob, Scheduler, VirtualClock
from .errors import Conflict
from .ids import IdFactory
from .models import ActionItem, Engagement, Signal, TranscriptTimeline
from .recorder import EngagementRecorder
from .releaser import Dropped
from .store import Store

STAGES = ("processing", "transcript", "action_items", "signals")
INSIGHT_STAGES = ("action_items", "signals")
# Which override keys belong to which stage, for the "stage already ran" check.
_OVERRIDE_STAGE = {
    "transcription": "transcript",
    "webhook": "transcript",
    "action_items": "action_items",
    "signals": "signals",
}

TRANSCRIPT_MIN_S, TRANSCRIPT_MAX_S, TRANSCRIPT_FRACTION = 20, 120, 0.15
# Longest scripted stage delay (pipeline rules, overrides): a year, like one clock/advance. Keeps every due time
# a formattable timestamp; longer values in an old state file are clamped on load (issue 18).
MAX_DELAY_S = 366 * 86_400
JITTER_S = {"processing": (2.0, 5.0), "action_items": (30.0, 90.0), "signals": (60.0, 180.0)}


@dataclass(frozen=True)
class PipelineOverrides:
    """Scripted outcomes (pipeline.md §5); None means "as usual"."""

    transcription: str | None = None  # "ok" | "failed"
    action_items: str | list[dict[str, Any]] | None = None  # "auto" | "failed" | canned items
    signals: str | list[dict[str, Any]] | None = None
    webhook: str | None = None  # "send" | "suppress"
    delays: dict[str, float] = field(default_factory=dict)

    def merged(self, other: PipelineOverrides) -> PipelineOverrides:
        return PipelineOverrides(
            transcription=other.transcription if other.transcription is not None else self.transcription,
            action_items=other.action_items if other.action_items is not None else self.action_items,
            signals=other.signals if other.signals is not None else self.signals,
            webhook=other.webhook if other.webhook is not None else self.webhook,
            delays={**self.delays, **other.delays},
        )

    def touched_stages(self) -> set[str]:
        stages = {stage for key, stage in _OVERRIDE_STAGE.items() if getattr(self, key) is not None}
        return stages | set(self.delays)


@dataclass
class PipelineRun:
    engagement_id: str
    workspace_id: str
    t0: int
    duration: int
    speakers: list[content.SpeakerSeed]
    owner: content.SpeakerSeed
    jitter: dict[str, float]
    overrides: PipelineOverrides = field(default_factory=PipelineOverrides)
    done_at: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, ScheduledJob] = field(default_factory=dict)
    failed: bool = False
    finished: bool = False

    def stage_state(self, stage: str) -> str:
        if stage in self.done_at:
            return "done"
        return "skipped" if self.finished else "pending"

    def plan(self) -> dict[str, int]:
        """Due time of every stage (actual time for stages that ran)."""
        delays = self.overrides.delays

        def delay_ms(stage: str, default: float) -> int:
            return round(delays.get(stage, default) * 1000)

        default_t = min(TRANSCRIPT_MAX_S, max(TRANSCRIPT_MIN_S, TRANSCRIPT_FRACTION * self.duration))
        p = self.done_at.get("processing", self.t0 + delay_ms("processing", self.jitter["processing"]))
        t = self.done_at.get("transcript", max(p, self.t0 + delay_ms("transcript", default_t)))
        return {
            "processing": p,
            "transcript": t,
            "action_items": self.done_at.get("action_items", t + delay_ms("action_items", self.jitter["action_items"])),
            "signals": self.done_at.get("signals", t + delay_ms("signals", self.jitter["signals"])),
        }


def _retire(run: PipelineRun) -> None:
    for job in run.jobs.values():
        job.cancel()
    run.jobs.clear()


class Pipeline:
    def __init__(
        self,
        *,
        seed: int,
        clock: VirtualClock,
        scheduler: Scheduler,
        ids: IdFactory,
        recorder: EngagementRecorder,
        store: Store,
    ) -> None:
        self._seed = seed
        self._clock = clock
        self._scheduler = scheduler
        self._ids = ids
        self._recorder = recorder
        self._store = store
        self.runs: dict[str, PipelineRun] = {}

    def start(
        self,
        e: Engagement,
        duration: int,
        speakers: list[content.SpeakerSeed],
        owner: content.SpeakerSeed,
        overrides: PipelineOverrides | None = None,
    ) -> PipelineRun:
        rng = content.rng_for(self._seed, e.workspace_id, e.external_id, "jitter")
        jitter = {stage: rng.uniform(lo, hi) for stage, (lo, hi) in JITTER_S.items()}
        run = PipelineRun(
            e.id, e.workspace_id, e.created_at, duration, speakers, owner, jitter, overrides or PipelineOverrides()
        )
        self.runs[e.id] = run
        self._schedule(run)
        self._changed(run)
        return run

    def _changed(self, run: PipelineRun) -> None:
        self._store.changes.put(tables.PIPELINE_RUNS, run.engagement_id, run)

    def override(self, engagement_id: str, overrides: PipelineOverrides) -> PipelineRun:
        run = self.runs.get(engagement_id)
        if run is None or run.finished:
            raise Conflict("This engagement's pipeline has finished; nothing left to override.")
        ran = sorted(overrides.touched_stages() & set(run.done_at))
        if ran:
            raise Conflict(f"Stage(s) already ran and cannot change: {', '.join(ran)}.")
        run.overrides = run.overrides.merged(overrides)
        self._schedule(run)
        self._changed(run)
        return run

    def resume(self, run: PipelineRun) -> None:
        """Adopt a run loaded from a saved state and schedule the stages it has left (persistence)."""
        self.forget(run.engagement_id)
        self.runs[run.engagement_id] = run
        if not run.finished:
            self._schedule(run)

    def forget(self, engagement_id: str) -> None:
        run = self.runs.pop(engagement_id, None)
        if run:
            self._store.changes.gone(tables.PIPELINE_RUNS, engagement_id)
            # Cancelled jobs let go of their callbacks, which refer back to the run: the run is freed now, not
            # by a full garbage-collector pass (after a reset of 10,000 engagements, a pause of most of a second).
            _retire(run)

    def clear(self, workspace_id: str | None = None) -> list[Dropped]:
        """Take the runs (of one workspace) out of use; a Releaser later cancels their jobs and frees them.
        Until then a job that comes due finds its run gone and does nothing (`_run_stage`)."""
        if workspace_id is None:
            gone, self.runs = self.runs, {}
        else:
            gone = {k: r for k, r in self.runs.items() if r.workspace_id == workspace_id}
            self.runs = {k: r for k, r in self.runs.items() if r.workspace_id != workspace_id}
        return [Dropped(gone, each=_retire)]

    # Scheduling -------------------------------------------------------------------------------

    def _schedule(self, run: PipelineRun) -> None:
        for job in run.jobs.values():
            job.cancel()
        run.jobs.clear()
        plan = run.plan()
        for stage in STAGES:
            if stage not in run.done_at:
                run.jobs[stage] = self._scheduler.call_at(
                    plan[stage], functools.partial(self._run_stage, run, stage), name=f"{stage}:{run.engagement_id}"
                )

    def _run_stage(self, run: PipelineRun, stage: str) -> None:
        if self.runs.get(run.engagement_id) is not run or run.finished:
            return
        e = self._store.find_engagement(run.workspace_id, run.engagement_id)
        if e is None:
            self.forget(run.engagement_id)
            return
        run.done_at[stage] = self._clock.now_ms()
        run.jobs.pop(stage, None)
        self._changed(run)
        getattr(self, f"_stage_{stage}")(run, e)
        if run.failed or all(s in run.done_at for s in STAGES):
            # Keep the finished run: its stage times are the engagement's history (admin, inspector).
            run.finished = True
            for job in run.jobs.values():
                job.cancel()
            run.jobs.clear()

    def _stage_processing(self, run: PipelineRun, e: Engagement) -> None:
        # end_at and duration_seconds were set at create, from the media probed during the request.
        self._recorder.change(e, processing_status="PROCESSING")

    def _stage_transcript(self, run: PipelineRun, e: Engagement) -> None:
        if run.overrides.transcription == "failed":
            run.failed = True
            self._recorder.change(e, processing_status="FAILED")
            return
        timeline = self._timeline_for(run, e)
        self._recorder.change(e, timeline=timeline)
        if run.overrides.webhook != "suppress":
            self._recorder.transcript_completed(e)

    def _stage_action_items(self, run: PipelineRun, e: Engagement) -> None:
        outcome = run.overrides.action_items
        items = [] if outcome == "failed" else self._action_items(run, e, outcome)
        self._finish_insight(run, e, "action_items", action_items=items)

    def _stage_signals(self, run: PipelineRun, e: Engagement) -> None:
        outcome = run.overrides.signals
        items = [] if outcome == "failed" else self._signals(run, e, outcome)
        self._finish_insight(run, e, "signals", signals=items)

    def _finish_insight(self, run: PipelineRun, e: Engagement, stage: str, **fields: Any) -> None:
        if all(s in run.done_at for s in INSIGHT_STAGES):
            # The later insight stage carries the final status in the same change (pipeline.md §2).
            failed = any(getattr(run.overrides, s) == "failed" for s in INSIGHT_STAGES)
            fields["processing_status"] = "FAILED" if failed else "COMPLETED"
        self._recorder.change(e, **fields)

    # Content ----------------------------------------------------------------------------------

    def _content_rng(self, run: PipelineRun, e: Engagement, part: str) -> Any:
        return content.rng_for(self._seed, e.workspace_id, e.external_id, part)

    def _timeline_for(self, run: PipelineRun, e: Engagement) -> TranscriptTimeline:
        rng = self._content_rng(run, e, "timeline")
        if e.submitted_timeline is not None:
            return e.submitted_timeline
        speakers = content.speakers_for(run.speakers, run.owner, rng)
        if e.submitted_transcript:
            return content.timeline_from_text(e.submitted_transcript, speakers, run.duration, rng)
        return content.generate_timeline(speakers, run.duration, rng)

    def _assignee(self, e: Engagement, speaker_index: int) -> str:
        timeline = e.timeline
        speaker = next((s for s in timeline.speakers if s.speaker_index == speaker_index), None) if timeline else None
        return speaker.user_id if speaker and speaker.user_id else e.owner_user_id

    def _action_items(self, run: PipelineRun, e: Engagement, canned: Any) -> list[ActionItem]:
        now = self._clock.now_ms()
        if isinstance(canned, list):
            return [
                ActionItem(
                    self._ids.new("actitm"),
                    e.id,
                    str(item.get("title", "Follow up")),
                    item.get("description"),
                    item.get("assignee_user_id", e.owner_user_id),
                    item.get("due_at"),
                    now,
                )
                for item in canned
            ]
        assert e.timeline is not None
        drafts = content.derive_action_items(e.timeline)
        end = e.end_at or e.start_at
        return [
            ActionItem(
                self._ids.new("actitm"),
                e.id,
                d.title,
                d.description,
                self._assignee(e, d.speaker_index),
                _next_weekday_5pm(end, d.due_weekday),
                now,
            )
            for d in drafts
        ]

    def _signals(self, run: PipelineRun, e: Engagement, canned: Any) -> list[Signal]:
        now = self._clock.now_ms()
        assert e.timeline is not None
        if isinstance(canned, list):
            first = e.timeline.entries[0]
            defaults = content.SignalDraft(
                "next_step", "Next step agreed", first.text, first.speaker_index, first.start_seconds, 0.9
            )
            drafts = [replace(defaults, **{k: v for k, v in item.items() if k in _SIGNAL_FIELDS}) for item in canned]
        else:
            drafts = content.derive_signals(e.timeline, self._content_rng(run, e, "signals"))
        return [
            Signal(
                self._ids.new("sgnl"),
                e.id,
                d.type,
                d.label,
                d.quote,
                d.speaker_index,
                d.start_seconds,
                d.confidence,
                now,
            )
            for d in drafts
        ]


_SIGNAL_FIELDS = frozenset({"type", "label", "quote", "speaker_index", "start_seconds", "confidence"})
_DAY_MS = 86_400_000


def _next_weekday_5pm(after_ms: int, weekday: int | None) -> int | None:
    """Due date for "by Friday": the next such weekday after the call, 17:00 UTC."""
    if weekday is None:
        return None
    day_start = after_ms - after_ms % _DAY_MS
    # 1970-01-01 was a Thursday (weekday 3).
    today = (day_start // _DAY_MS + 3) % 7
    days = (weekday - today) % 7 or 7
    return day_start + days * _DAY_MS + 17 * 3_600_000
