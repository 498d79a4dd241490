"""The staged AI pipeline: processing → transcript → action items / signals → COMPLETED (pipeline.md §2–5).

Each stage is a job on the virtual-clock scheduler. Jitter comes from an RNG seeded by
(seed, workspace, external_id), so one seed gives one timeline. Overrides reschedule stages that have
not run yet; stages never reorder (a stage due before its predecessor waits for it).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import field
from typing import Any, Literal, get_args

from . import content
from . import write_set as tables
from .changes import ChangeRecorder
from .clock import JobHeap, ScheduledJob, Scheduler, StagedJobs, VirtualClock, cancel_entry
from .errors import Conflict
from .models import Engagement
from .records import dataclass
from .releaser import Dropped
from .store import Store
from .timefmt import format_ms

Stage = Literal["processing", "transcript", "action_items", "signals"]
STAGES: tuple[Stage, ...] = get_args(Stage)
INSIGHT_STAGES: tuple[Stage, ...] = ("action_items", "signals")
_AFTER: dict[str, str | None] = {  # the stage that must have run before a stage is queued
    "processing": None,
    "transcript": "processing",
    "action_items": "transcript",
    "signals": "transcript",
}
# Scripted outcomes (pipeline.md §5); canned insights are lists of plain items instead of an outcome.
TranscriptionOutcome = Literal["ok", "failed"]
InsightOutcome = Literal["auto", "failed"]
WebhookChoice = Literal["send", "suppress"]
# Which override keys belong to which stage, for the "stage already ran" check.
_OVERRIDE_STAGE = {
    "transcription": "transcript",
    "webhook": "transcript",
    "action_items": "action_items",
    "signals": "signals",
}

TRANSCRIPT_MIN_S, TRANSCRIPT_MAX_S, TRANSCRIPT_FRACTION = 20, 120, 0.15
JITTER_S = {"processing": (2.0, 5.0), "action_items": (30.0, 90.0), "signals": (60.0, 180.0)}
# Longest scripted stage delay (pipeline rules, overrides): a year, like one clock/advance. Keeps every due time
# a formattable timestamp; longer values in an old state file are clamped on load (issue 18).
MAX_DELAY_S = 366 * 86_400


@dataclass(frozen=True, slots=True)
class PipelineOverrides:
    """Scripted outcomes (pipeline.md §5); None means "as usual"."""

    transcription: TranscriptionOutcome | None = None
    action_items: InsightOutcome | list[dict[str, Any]] | None = None
    signals: InsightOutcome | list[dict[str, Any]] | None = None
    webhook: WebhookChoice | None = None
    delays: dict[Stage, float] = field(default_factory=dict)

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


AS_USUAL = PipelineOverrides()  # shared by every run without a script (frozen; `merged` makes new ones)


@dataclass(slots=True, weakref_slot=True)
class PipelineRun:
    engagement_id: str
    workspace_id: str
    t0: int
    duration: int
    speakers: list[content.SpeakerSeed]
    owner: content.SpeakerSeed
    jitter: dict[str, float]
    overrides: PipelineOverrides = AS_USUAL
    done_at: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, ScheduledJob] = field(default_factory=dict)  # the stages queued now (not persisted)
    failed: bool = False
    finished: bool = False
    seq0: int = 0  # the scheduler places reserved for its stages at the last (re)plan (not persisted)

    def stage_state(self, stage: str) -> str:
        if stage in self.done_at:
            return "done"
        return "skipped" if self.finished else "pending"

    def plan(self, ran: tuple[str, int] | None = None) -> dict[str, int]:
        """Due time of every stage (actual time for stages that ran; for `ran`, the time given instead)."""
        delays = self.overrides.delays
        done_at = self.done_at if ran is None else {**self.done_at, ran[0]: ran[1]}

        def delay_ms(stage: Stage, default: float) -> int:
            return round(delays.get(stage, default) * 1000)

        default_t = min(TRANSCRIPT_MAX_S, max(TRANSCRIPT_MIN_S, TRANSCRIPT_FRACTION * self.duration))
        p = done_at.get("processing", self.t0 + delay_ms("processing", self.jitter["processing"]))
        t = done_at.get("transcript", max(p, self.t0 + delay_ms("transcript", default_t)))
        return {
            "processing": p,
            "transcript": t,
            "action_items": done_at.get("action_items", t + delay_ms("action_items", self.jitter["action_items"])),
            "signals": done_at.get("signals", t + delay_ms("signals", self.jitter["signals"])),
        }


class _StageJob:
    """The callback of one stage job: a third of what a functools.partial of a bound method costs (one or two per
    pending engagement)."""

    __slots__ = ("pipeline", "run", "stage")

    def __init__(self, pipeline: Pipeline, run: PipelineRun, stage: str) -> None:
        self.pipeline, self.run, self.stage = pipeline, run, stage

    def __call__(self) -> None:
        self.pipeline._run_stage(self.run, self.stage)


def _retire(run: PipelineRun) -> None:
    for job in run.jobs.values():
        job.cancel()
    run.jobs.clear()


class StagedRuns:
    """Runs loaded aside, with their pending stages queued in a schedule of their own (a restore builds them while
    requests are answered from the old state); `Pipeline.adopt` swaps both in at once."""

    def __init__(self) -> None:
        self.runs: dict[str, PipelineRun] = {}
        self.jobs = StagedJobs()

    def drop(self) -> list[Dropped]:
        """Not adopted after all: the runs and their jobs, for a Releaser (the jobs never ran anywhere: nothing to
        cancel)."""
        runs, self.runs = self.runs, {}
        return [Dropped(runs, each=_retire), Dropped(self.jobs.drop_all())]


class Pipeline:
    def __init__(
        self,
        *,
        seed: int,
        clock: VirtualClock,
        scheduler: Scheduler,
        changes: ChangeRecorder,
        store: Store,
    ) -> None:
        self._seed = seed
        self._clock = clock
        self._scheduler = scheduler
        self._changes = changes
        self._store = store
        self.runs: dict[str, PipelineRun] = {}
        self._jitter_rng = random.Random()
        self._tagger: Callable[[Engagement], list[str]] | None = None

    def attach_tagger(self, tagger: Callable[[Engagement], list[str]]) -> None:
        """The analysis' tagging (core/tags.py AutoTagging): it reads derived content, which reads these runs, so it
        is attached once both exist (emulator.py)."""
        self._tagger = tagger

    def start(
        self,
        e: Engagement,
        duration: int,
        speakers: list[content.SpeakerSeed],
        owner: content.SpeakerSeed,
        overrides: PipelineOverrides | None = None,
    ) -> PipelineRun:
        # content.rng_for's stream (seed_text(seed, workspace, external_id, "jitter")), seeded into one Random kept
        # for it: the same draws without a new generator (and its 2.5 KB state) per create.
        rng = self._jitter_rng
        content.reseed(rng, f"{self._seed}:{e.workspace_id}:{e.external_id}:jitter")
        draw = rng.random
        jitter = {stage: lo + (hi - lo) * draw() for stage, (lo, hi) in JITTER_S.items()}  # rng.uniform(lo, hi)
        run = PipelineRun(e.id, e.workspace_id, e.created_at, duration, speakers, owner, jitter, overrides or AS_USUAL)
        self.runs[e.id] = run
        # _schedule for a run that has no jobs and no stage done: only the first stage is queued.
        queue = self._scheduler
        run.seq0 = queue.reserve(len(STAGES))
        processing = run.overrides.delays.get("processing", jitter["processing"])
        run.jobs["processing"] = queue.call_at(
            run.t0 + round(processing * 1000),
            _StageJob(self, run, "processing"),
            name="processing",
            subject=run.engagement_id,
            seq=run.seq0,
        )
        self._changed(run)
        return run

    def state(self, engagement_id: str) -> dict[str, Any]:
        """Each stage's due (or actual) virtual time and state: pending, done, or skipped after a failure."""
        run = self.runs.get(engagement_id)
        if run is None:
            return {"engagement_id": engagement_id, "finished": True, "stages": {}}
        return {
            "engagement_id": engagement_id,
            "finished": run.finished,
            "duration_seconds": run.duration,
            "stages": {
                stage: {"at": format_ms(at), "state": run.stage_state(stage)} for stage, at in run.plan().items()
            },
        }

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

    def resume(self, run: PipelineRun, into: StagedRuns | None = None) -> None:
        """Adopt a run loaded from a saved state and schedule the stages it has left (persistence); `into`: aside,
        in runs that `adopt` swaps in later (their jobs call this pipeline once they run)."""
        if into is None:
            self.forget(run.engagement_id)
            self.runs[run.engagement_id] = run
            queue: JobHeap = self._scheduler
        else:
            old = into.runs.pop(run.engagement_id, None)
            if old is not None:
                _retire(old)
            into.runs[run.engagement_id] = run
            queue = into.jobs
        if not run.finished:
            self._schedule(run, queue)

    def adopt(self, staged: StagedRuns) -> list[Dropped]:
        """Make the runs loaded aside the pipeline's, and their schedule the scheduler's, in O(1) (Scheduler.adopt:
        the whole schedule is replaced, so call it after a full reset). Returns what was in use until now, for a
        Releaser: after a full reset, nothing."""
        dropped = [*self.clear(), Dropped(self._scheduler.adopt(staged.jobs), each=cancel_entry)]
        self.runs, staged.runs = staged.runs, {}
        return dropped

    def _changed(self, run: PipelineRun) -> None:
        self._store.write_set.put(tables.PIPELINE_RUNS, run.engagement_id, run)

    def forget(self, engagement_id: str) -> None:
        run = self.runs.pop(engagement_id, None)
        if run:
            self._store.write_set.gone(tables.PIPELINE_RUNS, engagement_id)
        if run:
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

    def _schedule(self, run: PipelineRun, queue: JobHeap | None = None) -> None:
        """(Re)plan the stages left. Only those whose stage before has run are queued now, the others when it has
        (one or two jobs per pending engagement instead of four: memory, issue 22). Each takes the place in the
        scheduler's order reserved for it here, at the due time this plan gives it, so jobs run in exactly the
        order, and at the times, they would have if all had been queued at once."""
        _retire(run)
        queue = self._scheduler if queue is None else queue
        run.seq0 = queue.reserve(len(STAGES))
        self._queue(run, run.plan(), queue)

    def _queue(self, run: PipelineRun, plan: dict[str, int], queue: JobHeap) -> None:
        for i, stage in enumerate(STAGES):
            before = _AFTER[stage]
            if stage in run.done_at or stage in run.jobs or (before is not None and before not in run.done_at):
                continue
            run.jobs[stage] = queue.call_at(
                plan[stage], _StageJob(self, run, stage), name=stage, subject=run.engagement_id, seq=run.seq0 + i
            )

    def _run_stage(self, run: PipelineRun, stage: str) -> None:
        if self.runs.get(run.engagement_id) is not run or run.finished:
            return
        e = self._store.find_engagement(run.workspace_id, run.engagement_id)
        if e is None:
            self.forget(run.engagement_id)
            return
        job = run.jobs.pop(stage, None)
        now = self._clock.now_ms()
        run.done_at[stage] = now
        self._changed(run)
        try:
            getattr(self, f"_stage_{stage}")(run, e)
        finally:  # a stage that raised (the scheduler records it) does not stop the stages after it
            if run.failed or all(s in run.done_at for s in STAGES):
                # Keep the finished run: its stage times are the engagement's history (admin, inspector).
                run.finished = True
                _retire(run)
            else:
                # The next stages are due after this one's planned time (a running clock's ticker may run it late).
                self._queue(run, run.plan((stage, job.due_ms if job is not None else now)), self._scheduler)

    def _stage_processing(self, run: PipelineRun, e: Engagement) -> None:
        # end_at and duration_seconds were set at create, from the media probed during the request.
        self._changes.change(e, processing_status="PROCESSING")

    def _stage_transcript(self, run: PipelineRun, e: Engagement) -> None:
        if run.overrides.transcription == "failed":
            run.failed = True
            self._changes.change(e, processing_status="FAILED")
            return
        # The transcript itself is derived when read (core/derived.py); the stage only moves the engagement on.
        self._changes.change(e)
        if run.overrides.webhook != "suppress":
            self._changes.transcript_completed(e)

    def _stage_action_items(self, run: PipelineRun, e: Engagement) -> None:
        """The first analysis stage; tagging always runs here, whatever run_workflows or scripted insights say
        (create engagement; issue 20 §7). New tags join those already linked, in the stage's updated event."""
        fields: dict[str, Any] = {}
        if self._tagger is not None:
            applied = [t for t in self._tagger(e) if t not in e.tag_ids]
            if applied:
                fields["tag_ids"] = [*e.tag_ids, *applied]
        self._finish_insight(run, e, **fields)

    def _stage_signals(self, run: PipelineRun, e: Engagement) -> None:
        self._finish_insight(run, e)

    def _finish_insight(self, run: PipelineRun, e: Engagement, **fields: Any) -> None:
        if all(s in run.done_at for s in INSIGHT_STAGES):
            # The later insight stage carries the final status in the same change (pipeline.md §2).
            failed = any(getattr(run.overrides, s) == "failed" for s in INSIGHT_STAGES)
            fields["processing_status"] = "FAILED" if failed else "COMPLETED"
        self._changes.change(e, **fields)
