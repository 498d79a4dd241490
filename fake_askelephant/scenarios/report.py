"""Reports of scenario runs: readable text for terminals and CI logs, JSON, and JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from ..core import jsonutil
from ..core.timefmt import format_ms, parse_iso
from .model import human_duration
from .results import FAILED, PASSED, ScenarioResult, StepResult

MARKS = {PASSED: "✓", FAILED: "✗", "skipped": "-"}
MAX_LISTED = 40


def _offset(result: ScenarioResult, ms: int | None) -> str:
    if ms is None:
        return ""
    return "+" + (human_duration(ms - result.start_ms) if ms > result.start_ms else "0s")


def _clock(ms: int | None) -> str:
    return format_ms(ms)[11:23] if ms is not None else " " * 12


def _widths(result: ScenarioResult) -> tuple[int, int]:
    """Columns as wide as this scenario needs: the offset (`+1d 2h 37m 5s`) and the step label."""
    offsets = [len(_offset(result, s.ended_ms)) for s in result.steps if s.outcome != "skipped"]
    labels = [len(f"{s.index:>2} {s.label}") for s in result.steps]
    return max([7, *offsets]), min(max([20, *labels]), 40)


def step_lines(result: ScenarioResult, step: StepResult, *, verbose: bool, widths: tuple[int, int]) -> list[str]:
    offset_width, label_width = widths
    label = f"{step.index:>2} {step.label}"
    if step.outcome == "skipped":
        when, summary = " " * (13 + offset_width), "skipped"
    else:
        when, summary = f"{_clock(step.ended_ms)} {_offset(result, step.ended_ms):>{offset_width}}", step.summary
    lines = [f"  {MARKS[step.outcome]} {when}  {label:<{label_width}}  {summary}".rstrip()]
    indent = " " * 7
    if step.note and (verbose or step.outcome == FAILED):
        lines.append(indent + step.note)
    if step.outcome == FAILED:
        lines.extend(f"{indent}{m}" for m in step.mismatches)
        lines.extend(f"{indent}{d}" for d in step.details)
        if step.line:
            lines.append(f"{indent}({result.source}:{step.line})")
    elif verbose:
        lines.extend(f"{indent}{d}" for d in step.details)
    return lines


def webhook_lines(result: ScenarioResult) -> list[str]:
    if not result.deliveries:
        return []
    lines = ["  Webhook deliveries (virtual time, endpoint, attempt, type, svix-id → answer):"]
    for d in result.deliveries[:MAX_LISTED]:
        ms = parse_iso(d["virtual_time"])
        answer = d["response_status_code"] if d["response_status_code"] is not None else (d.get("error") or "no answer")
        hazard = f"  hazard={d['hazard']}" if d.get("hazard") else ""
        lines.append(
            f"    {_clock(ms)} {_offset(result, ms):>10}  {d['endpoint']:<10} #{d['attempt']}  {d['type']}  "
            f"{d['svix_id']} → {answer}{hazard}"
        )
    if len(result.deliveries) > MAX_LISTED:
        lines.append(f"    … {len(result.deliveries) - MAX_LISTED} more")
    return lines


def event_lines(result: ScenarioResult) -> list[str]:
    if not result.events:
        return []
    lines = ["  Events (virtual time, type, resource, changed):"]
    for e in result.events[:MAX_LISTED]:
        ms = parse_iso(e["created_at"])
        changed = ", ".join(e["data"].get("previous_attributes") or {})
        obj = e["data"]["object"]
        status = f" {obj['processing_status']}" if "processing_status" in obj else ""
        lines.append(
            f"    {_clock(ms)} {_offset(result, ms):>10}  {e['type']:<45} {obj.get('id', '')}{status}"
            + (f"  ({changed})" if changed else "")
        )
    if len(result.events) > MAX_LISTED:
        lines.append(f"    … {len(result.events) - MAX_LISTED} more")
    return lines


def scenario_text(result: ScenarioResult, *, verbose: bool = False) -> str:
    head = f"{'PASS' if result.ok else 'FAIL'} {result.name}  ({result.source}, seed {result.seed}, {result.target})"
    lines = [head]
    lines.extend(f"  note: {n}" for n in result.notes)
    if result.error:
        lines.append(f"  error: {result.error}")
    widths = _widths(result)
    for step in result.steps:
        lines.extend(step_lines(result, step, verbose=verbose, widths=widths))
    if verbose or not result.ok:
        lines.extend(webhook_lines(result))
        lines.extend(event_lines(result))
    counts = result.counts
    span = human_duration(result.end_ms - result.start_ms) if result.end_ms is not None else "0s"
    lines.append(
        f"  {counts[PASSED]} passed, {counts[FAILED]} failed, {counts['skipped']} skipped; "
        f"virtual {span}, wall {result.wall_s:.2f}s"
    )
    return "\n".join(lines)


def summary_text(results: Sequence[ScenarioResult]) -> str:
    failed = [r for r in results if not r.ok]
    line = f"{len(results) - len(failed)} of {len(results)} scenario(s) passed"
    if failed:
        line += "; failed: " + ", ".join(r.name for r in failed)
    return line


def to_json(results: Sequence[ScenarioResult]) -> bytes:
    return jsonutil.dumps(
        {
            "passed": all(r.ok for r in results),
            "scenarios": [scenario_dict(r) for r in results],
        }
    )


def scenario_dict(result: ScenarioResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "source": result.source,
        "passed": result.ok,
        "seed": result.seed,
        "target": result.target,
        "start": format_ms(result.start_ms),
        "end": format_ms(result.end_ms) if result.end_ms is not None else None,
        "wall_seconds": round(result.wall_s, 3),
        "error": result.error,
        "notes": result.notes,
        "steps": [
            {
                "index": s.index,
                "name": s.name,
                "kind": s.kind,
                "line": s.line,
                "outcome": s.outcome,
                "summary": s.summary,
                "note": s.note,
                "virtual_start": format_ms(s.started_ms) if s.started_ms is not None else None,
                "virtual_end": format_ms(s.ended_ms) if s.ended_ms is not None else None,
                "mismatches": [{"where": m.where, "message": m.message} for m in s.mismatches],
                "details": s.details,
            }
            for s in result.steps
        ],
        "webhook_deliveries": result.deliveries,
        "events": [
            {
                "id": e["id"],
                "type": e["type"],
                "created_at": e["created_at"],
                "object_id": e["data"]["object"].get("id"),
            }
            for e in result.events
        ],
    }


def to_junit(results: Sequence[ScenarioResult]) -> bytes:
    """One testcase per scenario; a failure carries the failing step's mismatches, system-out the full text."""
    suite = ET.Element(
        "testsuite",
        name="fake-askelephant scenarios",
        tests=str(len(results)),
        failures=str(sum(1 for r in results if not r.ok and r.error is None)),
        errors=str(sum(1 for r in results if r.error is not None)),
        time=f"{sum(r.wall_s for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"scenarios.{r.source}", name=r.name, time=f"{r.wall_s:.3f}")
        failing = r.first_failure
        if r.error is not None:
            ET.SubElement(case, "error", message=r.error).text = r.error
        elif failing is not None:
            message = f"step {failing.index} {failing.label}: " + (
                str(failing.mismatches[0]) if failing.mismatches else "failed"
            )
            body = "\n".join([*(str(m) for m in failing.mismatches), *failing.details])
            ET.SubElement(case, "failure", message=message, type="ScenarioStepFailed").text = body
        ET.SubElement(case, "system-out").text = scenario_text(r, verbose=True)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
