"""Run a scenario: set up keys, endpoints, rules and faults, then the steps in order on the virtual clock.

The runner only speaks HTTP to the emulator (target.py). Waiting is never wall-clock: `within`,
`wait_for` and `advance` move the virtual clock, stepping to each instant where work is due, so a
webhook that arrives at T is observed at T and the next step starts there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..config import OPTIONS, Settings
from ..core import jsonutil
from ..core.store import DEFAULT_API_KEY, DEFAULT_WORKSPACE
from ..core.timefmt import format_ms
from ..webhooks.sink import sink_name
from . import observe, refs, transcript
from .checks import expect_mismatches, selected, webhook_mismatches
from .loader import LoadedScenario, render_path
from .matching import (
    Mismatch,
    show,
    unified_diff,
)
from .model import (
    DEFAULT_KEY_NAME,
    ExpectSpec,
    ExpectWebhookSpec,
    PipelineSpec,
    RequestSpec,
    Scenario,
    Step,
    WaitForSpec,
    human_duration,
)
from .observe import EndpointRef, Received
from .results import FAILED, PASSED, ScenarioResult, StepResult
from .target import Exchange, Target, TargetError, in_process, remote

M = TypeVar("M", bound=BaseModel)
MAX_SETTLE_ROUNDS = 10_000  # guard: a scheduler that keeps scheduling work "now" forever is a bug


class StepFailed(Exception):
    """A step cannot go on (unresolvable reference, emulator refused a call); the message says why."""


def emulator_settings(scenario: Scenario) -> Settings:
    """The in-process emulator for this scenario: its seed and clock, plus `settings` parsed like the CLI's."""
    options = {opt.flag.lstrip("-"): opt for opt in OPTIONS}
    values: dict[str, Any] = {}
    for name, raw in scenario.settings.items():
        opt = options[name.replace("_", "-")]
        text = str(raw).lower() if isinstance(raw, bool) else str(raw)
        values[opt.dest] = tuple(opt.parse(p.strip()) for p in text.split(",")) if opt.repeatable else opt.parse(text)
    return Settings(
        **{
            **values,
            "seed": scenario.seed,
            "time_scale": scenario.clock.time_scale,
            "start_time": scenario.clock.start_ms,
            "port": 0,
        }
    )


async def run_scenario(
    loaded: LoadedScenario, *, target_url: str | None = None, api_key: str = DEFAULT_API_KEY
) -> ScenarioResult:
    """Run one scenario in a fresh in-process emulator, or against `target_url` (which gets reset)."""
    started = time.perf_counter()
    scenario = loaded.scenario
    if target_url is None:
        async with in_process(emulator_settings(scenario)) as target:
            result = await ScenarioRun(loaded, target, api_key).run()
    else:
        async with remote(target_url) as target:
            result = await ScenarioRun(loaded, target, api_key).run()
    result.wall_s = time.perf_counter() - started
    return result


class ScenarioRun:
    def __init__(self, loaded: LoadedScenario, target: Target, api_key: str) -> None:
        self.loaded = loaded
        self.scenario = loaded.scenario
        self.target = target
        self.keys: dict[str, str] = {DEFAULT_KEY_NAME: api_key}
        self.endpoints: dict[str, EndpointRef] = {}
        self.steps: dict[str, Any] = {}
        self.last: list[Exchange] | None = None
        self.now_ms = self.scenario.clock.start_ms
        self.result = ScenarioResult(
            name=self.scenario.name,
            source=loaded.source,
            seed=self.scenario.seed,
            target="in-process" if target.in_process else target.base_url,
            start_ms=self.scenario.clock.start_ms,
            base_url=target.base_url,
        )

    # Driver -----------------------------------------------------------------------------------

    async def run(self) -> ScenarioResult:
        self.result.steps = [
            StepResult(i + 1, s.name, s.kind, self.loaded.line_of("steps", i), note=s.note)
            for i, s in enumerate(self.scenario.steps)
        ]
        try:
            await self._setup()
        except (TargetError, StepFailed) as exc:
            self.result.error = f"setup: {exc}"
            return self.result
        for step, outcome in zip(self.scenario.steps, self.result.steps, strict=True):
            await self._run_step(step, outcome)
            if outcome.outcome != PASSED:
                break
        try:
            await self._collect()
        except TargetError as exc:
            self.result.error = f"collecting webhooks and events: {exc}"
        failures = self.target.scheduler_failures()
        if failures:
            self.result.error = "the emulator's scheduler raised (a bug in fake-askelephant): " + "; ".join(failures)
        return self.result

    async def _run_step(self, step: Step, outcome: StepResult) -> None:
        began = time.perf_counter()
        outcome.started_ms = self.now_ms
        try:
            handler = getattr(self, f"_step_{step.kind}")
            await handler(step, outcome)
            outcome.outcome = FAILED if outcome.mismatches else PASSED
        except (StepFailed, TargetError, refs.UnresolvedReference) as exc:
            outcome.outcome = FAILED
            outcome.mismatches.append(Mismatch("error", str(exc)))
        try:
            self.now_ms = await self.target.now_ms()
        except TargetError as exc:
            outcome.outcome = FAILED
            outcome.mismatches.append(Mismatch("error", str(exc)))
        outcome.ended_ms = self.now_ms
        outcome.wall_ms = (time.perf_counter() - began) * 1000
        if step.name is not None and step.name not in self.steps:
            self.steps[step.name] = None  # later references get a clear "is null" rather than "unknown"

    def roots(self) -> dict[str, Any]:
        return {
            **self.steps,
            "keys": dict(self.keys),
            "endpoints": {name: ref.root() for name, ref in self.endpoints.items()},
            "vars": self.scenario.vars,
            "scenario": {"name": self.scenario.name, "seed": self.scenario.seed},
            "target": {"base_url": self.target.base_url, "api_url": self.target.base_url + "/api"},
            "clock": {"start": self.scenario.clock.start, "now": format_ms(self.now_ms)},
        }

    def materialize(self, spec: M) -> M:
        """The spec with every `${…}` resolved against what ran so far, validated again."""
        raw = spec.model_dump(by_alias=True, exclude_unset=True)
        try:
            return type(spec).model_validate(refs.interpolate(raw, self.roots()))
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = render_path(tuple(str(p) if not isinstance(p, int) else p for p in first["loc"]))
            raise StepFailed(f"after resolving references, {where}: {first['msg']}") from exc

    # Setup ------------------------------------------------------------------------------------

    async def _setup(self) -> None:
        scenario = self.scenario
        if not self.target.in_process:
            await self._prepare_remote()
        self.now_ms = await self.target.now_ms()
        for name, key in scenario.all_keys().items():
            body: dict[str, Any] = {"scopes": key.scopes, "workspace_id": key.workspace_id or DEFAULT_WORKSPACE}
            if key.user is not None:
                body["user"] = key.user.model_dump(exclude_none=True)
            self.keys[name] = await self._setup_call(("keys", name), self.target.create_key(body))
        for name, ep in scenario.endpoints.items():
            self.endpoints[name] = await self._setup_call(("endpoints", name), self._create_endpoint(name, ep))
        for i, rule in enumerate(scenario.pipeline_rules):
            await self._setup_call(("pipeline_rules", i), self.target.admin("POST", "/pipeline-rules", rule))
        # Faults last: they could otherwise hit the setup calls themselves.
        for i, fault in enumerate(scenario.faults):
            body = fault.model_dump(exclude_unset=True)
            await self._setup_call(("faults", i), self.target.admin("POST", "/faults", body))

    async def _setup_call(self, path: tuple[str | int, ...], call: Any) -> Any:
        try:
            return await call
        except TargetError as exc:
            line = self.loaded.lines.line(path)
            raise StepFailed(f"{render_path(path)} (line {line}): {exc}") from exc

    async def _prepare_remote(self) -> None:
        health = await self.target.health()
        scenario = self.scenario
        if scenario.settings:
            raise StepFailed(
                f"this scenario sets emulator flags ({', '.join(scenario.settings)}); run it in-process "
                "(without --target-url) or start the target with them"
            )
        if float(health.get("time_scale", 0)) != scenario.clock.time_scale:
            raise StepFailed(
                f"the target runs at time scale {health.get('time_scale')}, the scenario needs "
                f"{scenario.clock.time_scale:g}: start it with --time-scale {scenario.clock.time_scale:g}"
            )
        if health.get("seed") != scenario.seed:
            self.result.notes.append(
                f"target seed {health.get('seed')} ≠ scenario seed {scenario.seed}: ids and content differ from "
                "an in-process run (expectations that use references still hold)"
            )
        await self.target.reset_all()
        now = await self.target.now_ms()
        if now < scenario.clock.start_ms:
            await self.target.set_clock(scenario.clock.start_ms)
        elif now > scenario.clock.start_ms:
            self.result.notes.append(
                f"target clock ({format_ms(now)}) is past the scenario start ({scenario.clock.start}); "
                "the clock only moves forward, so timestamps differ"
            )
        self.result.start_ms = max(now, scenario.clock.start_ms)

    async def _create_endpoint(self, name: str, spec: Any) -> EndpointRef:
        sink = None if spec.url is not None else (spec.sink or name)
        url = spec.url if spec.url is not None else self.target.sink_url(sink or name)
        if sink is not None and (spec.statuses is not None or spec.delay_seconds is not None):
            config: dict[str, Any] = {"statuses": spec.statuses or [200]}
            if spec.delay_seconds is not None:
                config["delay_seconds"] = spec.delay_seconds
            await self.target.configure_sink(sink, config)
        body = spec.model_dump(
            include={"secret", "event_types", "workspace_id", "header_style", "hazards"}, exclude_none=True
        )
        created = await self.target.create_endpoint({"url": url, **body})
        return EndpointRef(name, created["id"], url, created.get("secret"), sink)

    # Steps ------------------------------------------------------------------------------------

    def _headers(self, request: RequestSpec) -> dict[str, str]:
        headers = dict(request.headers)
        wants_key = request.path.startswith("/api/") or "key" in request.model_fields_set
        if request.key is not None and wants_key and not any(h.lower() == "authorization" for h in headers):
            if request.key not in self.keys:
                raise StepFailed(f"unknown key {request.key!r}")
            headers["Authorization"] = self.keys[request.key]
        if request.has_json_body and not any(h.lower() == "content-type" for h in headers):
            headers["Content-Type"] = "application/json"
        return headers

    async def _send(self, request: RequestSpec) -> Exchange:
        body: bytes | None = None
        if request.has_json_body:
            body = jsonutil.dumps(request.body)
        elif request.raw is not None:
            body = request.raw.encode()
        return await self.target.send(request.method, request.path, self._headers(request), body)

    def _remember(self, step: Step, record: Any) -> None:
        if step.name is not None:
            self.steps[step.name] = record

    def _log_exchange(self, outcome: StepResult, exchange: Exchange) -> None:
        self.result.transcript.append(transcript.exchange_entry(outcome.index, outcome.label, self.now_ms, exchange))

    async def _step_request(self, step: Step, outcome: StepResult) -> None:
        assert step.request is not None
        exchange = await self._send(self.materialize(step.request))
        self._log_exchange(outcome, exchange)
        self.last = [exchange]
        self._remember(step, exchange.record())
        outcome.summary = exchange.summary()
        if step.expect is not None:
            self._check(outcome, self.materialize(step.expect), self.last)

    async def _step_concurrent(self, step: Step, outcome: StepResult) -> None:
        assert step.concurrent is not None
        requests = [self.materialize(r) for r in step.concurrent.expanded()]
        exchanges = list(await asyncio.gather(*(self._send(r) for r in requests)))
        self.result.transcript.append(transcript.group_entry(outcome.index, outcome.label, self.now_ms, exchanges))
        self.last = exchanges
        self._remember(step, {"responses": [e.record() for e in exchanges], "count": len(exchanges)})
        statuses = sorted((e.status or 0 for e in exchanges), reverse=True)
        outcome.summary = f"{len(exchanges)} × {requests[0].method} {requests[0].path} → " + ", ".join(
            f"{statuses.count(s)}×{s or 'no response'}" for s in sorted(set(statuses), reverse=True)
        )
        if step.expect is not None:
            self._check(outcome, self.materialize(step.expect), exchanges)

    async def _step_advance(self, step: Step, outcome: StepResult) -> None:
        assert step.advance is not None
        ms = round(step.advance * 1000)
        self.now_ms = await self.target.advance_ms(ms)
        outcome.summary = f"advance {human_duration(ms)}"

    async def _step_expect(self, step: Step, outcome: StepResult) -> None:
        assert step.expect is not None
        if self.last is None:
            raise StepFailed("no response to check yet")
        outcome.summary = "expect on " + (
            self.last[0].summary() if len(self.last) == 1 else f"{len(self.last)} responses"
        )
        self._check(outcome, self.materialize(step.expect), self.last)

    async def _step_pipeline(self, step: Step, outcome: StepResult) -> None:
        assert step.pipeline is not None
        spec: PipelineSpec = self.materialize(step.pipeline)
        path = f"/__admin/engagements/{spec.engagement}/pipeline"
        body = jsonutil.dumps(spec.overrides())
        exchange = await self.target.send("POST", path, {"Content-Type": "application/json"}, body)
        self._log_exchange(outcome, exchange)
        self.last = [exchange]
        self._remember(step, exchange.record())
        outcome.summary = (
            f"pipeline {', '.join(spec.overrides()) or '(no change)'} for {spec.engagement} → {exchange.status}"
        )
        if exchange.status != 200:
            outcome.mismatches.append(
                Mismatch("status", f"the emulator refused the override: {show(exchange.parsed())}")
            )

    async def _step_wait_for(self, step: Step, outcome: StepResult) -> None:
        assert step.wait_for is not None
        spec: WaitForSpec = self.materialize(step.wait_for)
        start = self.now_ms
        deadline = start + round(spec.timeout * 1000)
        at = start + round(spec.first_after * 1000)
        every = spec.every
        polls = 0
        while True:
            if at > self.now_ms:
                self.now_ms = await self.target.advance_ms(at - self.now_ms)
            exchange = await self._send(spec.request)
            self._log_exchange(outcome, exchange)
            self.last = [exchange]
            polls += 1
            pending = expect_mismatches(spec.until, [exchange])
            verdict = f"not yet: {pending[0][1]}" if pending else "ok"
            offset = human_duration(self.now_ms - start)
            outcome.details.append(f"poll {polls} at +{offset}: {exchange.status} — {verdict}")
            nxt = at + round(every * 1000)
            if not pending or nxt > deadline:
                break
            at = nxt
            every = min(every * spec.backoff, spec.max_every if spec.max_every is not None else float("inf"))
        self._remember(step, {**exchange.record(), "polls": polls})
        where = f"{spec.request.method} {spec.request.path}"
        outcome.summary = f"wait_for {where}: {polls} poll(s) over {human_duration(self.now_ms - start)}"
        if pending:
            outcome.mismatches.append(Mismatch("wait_for", f"still not true after {human_duration(deadline - start)}"))
            self._check(outcome, spec.until, [exchange])

    async def _step_expect_webhook(self, step: Step, outcome: StepResult) -> None:
        assert step.expect_webhook is not None
        spec: ExpectWebhookSpec = self.materialize(step.expect_webhook)
        endpoint = await self._endpoint(spec.endpoint)
        start = self.now_ms
        deadline = start + round(spec.within * 1000)
        matches, everything = await self._wait_for_deliveries(spec, endpoint, deadline)
        what = spec.type or "any event"
        origin = self.result.start_ms
        times = ", ".join(f"+{human_duration(max(0, m.virtual_ms - origin))}" for m in matches[:8])
        outcome.summary = f"expect_webhook {what} at {endpoint.label}: {len(matches)} received" + (
            f" at {times}" if times else ""
        )
        self._remember(
            step,
            {
                "count": len(matches),
                "requests": [m.view() for m in matches],
                "first": matches[0].view() if matches else None,
                "last": matches[-1].view() if matches else None,
            },
        )
        mismatches = webhook_mismatches(spec, matches)
        if mismatches:
            outcome.mismatches.extend(mismatches)
            outcome.details.append(f"{endpoint.label} received {len(everything)} request(s) in all:")
            outcome.details.extend(
                f"  {format_ms(r.virtual_ms)}  {r.type}  {r.svix_id}  → {r.status}"
                + ("" if r.verified is None else f"  verified={str(r.verified).lower()}")
                for r in everything[-20:]
            )

    async def _wait_for_deliveries(
        self, spec: ExpectWebhookSpec, endpoint: EndpointRef, deadline: int
    ) -> tuple[list[Received], list[Received]]:
        """Step the clock from one due instant to the next until enough arrived or the window closed."""
        self.now_ms = await self.target.advance_ms(0)  # finish work already due now (e.g. a create's webhooks)
        for _ in range(MAX_SETTLE_ROUNDS):
            everything = await observe.received(self.target, endpoint)
            matches = [r for r in everything if selected(spec, r)]
            enough = spec.wait == "first" and spec.count != 0 and len(matches) >= spec.target_count
            if enough or self.now_ms >= deadline:
                return matches, everything
            due = await self.target.next_due_ms()
            stop = deadline if due is None or due > deadline else max(due, self.now_ms)
            self.now_ms = await self.target.advance_ms(stop - self.now_ms)
        raise StepFailed(f"the emulator kept scheduling work at {format_ms(self.now_ms)}; gave up waiting")

    async def _endpoint(self, name: str | None) -> EndpointRef:
        if name is None:
            return next(iter(self.endpoints.values()))
        if name in self.endpoints:
            return self.endpoints[name]
        try:
            found = await self.target.get_endpoint(name)
        except TargetError as exc:
            raise StepFailed(f"endpoint {name!r} is neither declared in `endpoints` nor an endpoint id: {exc}") from exc
        sink = sink_name(found["url"])
        return EndpointRef(name, found["id"], found["url"], found.get("secret"), sink)

    # Checks -----------------------------------------------------------------------------------

    def _check(self, outcome: StepResult, expect: ExpectSpec, exchanges: Sequence[Exchange]) -> bool:
        """Add every mismatch to the step, plus a body diff of the first response that failed."""
        found = expect_mismatches(expect, exchanges)
        outcome.mismatches.extend(m for _, m in found)
        if found and expect.has_body:
            outcome.details.extend(unified_diff(expect.body, exchanges[found[0][0]].parsed()))
        return not found

    async def _collect(self) -> None:
        """Webhook deliveries, sink requests and events, for the report and the transcript."""
        names = {ref.id: name for name, ref in self.endpoints.items()}
        self.result.deliveries = [
            {
                **{k: v for k, v in d.items() if k not in transcript.WALL_FIELDS},
                "endpoint": names.get(d["endpoint_id"], d["endpoint_id"]),
            }
            for d in await self.target.deliveries()
        ]
        self.result.events = await self.target.events()
        for name, ref in self.endpoints.items():
            if ref.sink is not None:
                for item in await self.target.sink_requests(ref.sink):
                    self.result.transcript.append(transcript.sink_entry(name, item))
        self.result.transcript.extend({"kind": "event", "event": e} for e in self.result.events)
        self.result.transcript.extend({"kind": "delivery", "attempt": d} for d in self.result.deliveries)
        self.result.end_ms = self.now_ms
