"""Concurrent creates with one external_id (api.md §5.2): one 201, N−1 × 200, one stored."""

from __future__ import annotations

from collections import Counter

from contract_tests.api_suites import expect
from contract_tests.api_suites.common import minimal_payload, walk
from contract_tests.checks import Budget, api_check
from contract_tests.target import Target

ROUNDS = 3


@api_check("concurrency")
def check_parallel_creates_have_one_winner(target: Target, budget: Budget) -> None:
    """N simultaneous POSTs of one external_id -> one 201, N-1 x 200, one engagement stored."""
    n = budget.concurrency
    for round_no in range(ROUNDS):
        workspace = target.new_workspace() if target.is_emulator else target.default_workspace()
        external_id, fresh = target.creatable_external_id()
        specs = [
            workspace.client.spec(
                "POST",
                "/v2/engagements",
                json_body=minimal_payload(target, external_id, title=f"race {round_no}.{i}"),
            )
            for i in range(n)
        ]
        responses = target.http.send_all(specs)
        statuses = Counter(r.status for r in responses)
        what = f"round {round_no}: {n} parallel creates of {external_id!r}"
        want_created = 1 if fresh else statuses.get(201, 0)
        assert statuses.get(201, 0) == want_created and statuses.get(200, 0) == n - want_created, (
            f"{what}: statuses {dict(statuses)}, want one 201 and {n - 1} × 200"
        )
        if not fresh:
            assert statuses.get(201, 0) <= 1, f"{what}: {statuses[201]} × 201"
        bodies = [expect.json_body(target, r, "engagement") for r in responses]
        ids = {b["id"] for b in bodies}
        assert len(ids) == 1, f"{what}: {len(ids)} different engagements {sorted(ids)}"
        winner = next(b for r, b in zip(responses, bodies, strict=True) if r.status in (201, 200))
        titles = {b["title"] for b in bodies}
        assert len(titles) == 1, f"{what}: replays returned different titles {sorted(titles)}: values were not ignored"
        if workspace.fresh:
            stored = walk(target, workspace.client, {"limit": "100"})
            assert [e["id"] for e in stored] == [winner["id"]], (
                f"{what}: workspace holds {[e['id'] for e in stored]}, want exactly {winner['id']}"
            )
