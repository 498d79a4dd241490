"""The checks behind `expect` and `expect_webhook`: responses and received webhooks against a spec."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .matching import (
    Mismatch,
    distinct,
    header_mismatches,
    jsonpath_mismatches,
    jsonpath_values,
    schema_mismatches,
    show,
    subset_mismatches,
)
from .model import ExpectSpec, ExpectWebhookSpec, human_duration
from .observe import Received
from .target import Exchange

SCHEDULE_TOLERANCE_MS = 1


def _group_where(i: int, n: int, where: str) -> str:
    return where if n == 1 else f"responses[{i}] {where}"


def expect_mismatches(expect: ExpectSpec, exchanges: Sequence[Exchange]) -> list[tuple[int, Mismatch]]:
    out: list[tuple[int, Mismatch]] = []
    n = len(exchanges)
    allowed = [expect.status] if isinstance(expect.status, int) else expect.status
    for i, exchange in enumerate(exchanges):

        def add(m: Mismatch, i: int = i) -> None:
            out.append((i, Mismatch(_group_where(i, n, m.where), m.message)))

        if exchange.status is None:
            if not expect.no_response:
                add(Mismatch("status", f"no HTTP response: {exchange.error}"))
            continue
        if expect.no_response:
            add(Mismatch("status", f"expected no HTTP response, got {exchange.status}: {show(exchange.parsed())}"))
            continue
        if allowed is not None and exchange.status not in allowed:
            expected = allowed[0] if len(allowed) == 1 else f"one of {allowed}"
            add(Mismatch("status", f"expected {expected}, got {exchange.status}: {show(exchange.parsed())}"))
        if expect.headers:
            for m in header_mismatches(expect.headers, exchange.headers):
                add(m)
        body = exchange.parsed()
        if expect.has_body:
            for m in subset_mismatches(expect.body, body):
                add(m)
        if expect.schema_ is not None:
            for m in schema_mismatches(expect.schema_, body):
                add(m)
        for check in expect.jsonpath:
            for m in jsonpath_mismatches(check, body):
                add(m)
    if expect.statuses is not None:
        actual = {s: sum(1 for e in exchanges if e.status == s) for s in {e.status for e in exchanges if e.status}}
        if actual != dict(expect.statuses):
            out.append((0, Mismatch("statuses", f"expected {_counts(expect.statuses)}, got {_counts(actual)}")))
    for expression in expect.same or []:
        values = [jsonpath_values(expression, e.parsed()) for e in exchanges]
        if len(distinct(values)) != 1:
            out.append((0, Mismatch(f"same {expression}", f"differs across responses: {show(values)}")))
    return out


def _counts(counts: Mapping[int, int]) -> str:
    return ", ".join(f"{v}×{k}" for k, v in sorted(counts.items(), reverse=True)) or "none"


def selected(spec: ExpectWebhookSpec, r: Received) -> bool:
    if spec.type is not None and r.type != spec.type:
        return False
    return not spec.has_body or not subset_mismatches(spec.body, r.body)


def webhook_mismatches(spec: ExpectWebhookSpec, matches: list[Received]) -> list[Mismatch]:
    out: list[Mismatch] = []
    what = spec.type or "matching request"
    if spec.count is not None and len(matches) != spec.count:
        out.append(Mismatch("count", f"expected {spec.count} {what}(s), got {len(matches)}"))
    elif spec.count is None and not matches:
        out.append(
            Mismatch(
                "count", f"expected at least one {what}, got none within {human_duration(round(spec.within * 1000))}"
            )
        )
    if spec.verified is not None:
        bad = [r for r in matches if r.verified is not spec.verified]
        if bad:
            out.append(Mismatch("verified", f"{len(bad)} request(s) had verified={str(bad[0].verified).lower()}"))
    ids = distinct([r.svix_id for r in matches])
    if spec.same_svix_id is True and len(ids) > 1:
        out.append(Mismatch("same_svix_id", f"expected one svix-id, got {show(ids)}"))
    if spec.same_svix_id is False and matches and len(ids) != len(matches):
        out.append(
            Mismatch(
                "same_svix_id", f"expected a different svix-id each time, got {show([r.svix_id for r in matches])}"
            )
        )
    if spec.schedule is not None and matches:
        offsets = [r.virtual_ms - matches[0].virtual_ms for r in matches]
        expected = [round(s * 1000) for s in spec.schedule]
        if len(offsets) != len(expected) or any(
            abs(a - b) > SCHEDULE_TOLERANCE_MS for a, b in zip(offsets, expected, strict=False)
        ):
            got, want = show([_s(v) for v in offsets]), show([_s(v) for v in expected])
            out.append(Mismatch("schedule", f"expected {want}, got {got} (seconds after the first)"))
    if spec.statuses is not None and [r.status for r in matches] != spec.statuses:
        out.append(Mismatch("statuses", f"expected {show(spec.statuses)}, got {show([r.status for r in matches])}"))
    for i, r in enumerate(matches):
        prefix = f"requests[{i}] "
        if spec.schema_ is not None:
            out.extend(Mismatch(prefix + m.where, m.message) for m in schema_mismatches(spec.schema_, r.body))
        for check in spec.jsonpath:
            out.extend(Mismatch(prefix + m.where, m.message) for m in jsonpath_mismatches(check, r.body))
    return out


def _s(ms: int) -> float | int:
    seconds = ms / 1000
    return int(seconds) if seconds == int(seconds) else seconds
