"""Stateful contract (hypothesis ``RuleBasedStateMachine``): creates, replays, reads, lists and clock moves.

Model: ``(workspace, external_id) -> engagement id`` plus the last body seen per id. Invariants: one
engagement per key, status never regresses, insights only grow, workspaces never see each other's data.
Against the real API there is one workspace, pooled ids and no clock; the other rules are off.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from contract_tests.api_suites import expect
from contract_tests.api_suites.common import assert_not_regressed, get_engagement, stable_view
from contract_tests.checks import Budget, api_check, hypothesis_settings
from contract_tests.strategies.payloads import valid_create_payloads
from contract_tests.target import Target, Workspace

INSIGHTS = "action_items,signals"


def machine_for(target: Target) -> type[RuleBasedStateMachine]:
    """A state machine class bound to ``target`` (rules need it; Hypothesis instantiates the class itself)."""
    emulator = target.is_emulator

    class EngagementMachine(RuleBasedStateMachine):
        external_ids = Bundle("external_ids")

        def __init__(self) -> None:
            super().__init__()
            self.workspaces: list[Workspace] = (
                [target.new_workspace(), target.new_workspace()] if emulator else [target.default_workspace()]
            )
            self.ids: dict[tuple[int, str], str] = {}
            self.seen: dict[str, dict[str, Any]] = {}

        # --- rules ------------------------------------------------------------------------------
        @initialize(target=external_ids, payload=valid_create_payloads(allow_media_url=emulator))
        def start_with_two(self, payload: dict[str, Any]) -> Any:
            # Start from a workspace holding two engagements, so paging and replays matter from step one.
            made = [target.creatable_external_id()[0] for _ in range(2)]
            for external_id in made:
                self.create(0, external_id, payload)
            return multiple(*made)

        @rule(target=external_ids)
        def new_external_id(self) -> str:
            return target.creatable_external_id()[0]

        @rule(
            ws=st.integers(0, 1),
            external_id=external_ids,
            payload=valid_create_payloads(allow_media_url=emulator),
        )
        def create(self, ws: int, external_id: str, payload: dict[str, Any]) -> None:
            ws %= len(self.workspaces)
            resp = self.workspaces[ws].client.create_engagement({**payload, "external_id": external_id})
            key = (ws, external_id)
            if key in self.ids:
                expect.status(resp, 200)
            elif emulator:
                expect.status(resp, 201)
            else:
                expect.status(resp, 200, 201)
            body = expect.json_body(target, resp, "engagement")
            if key in self.ids:
                assert body["id"] == self.ids[key], (
                    f"{resp.describe()}: {external_id!r} gave {body['id']}, first it gave {self.ids[key]}"
                )
                self._observe(body, f"replay of {external_id!r}", insights=False)
            else:
                assert body["id"] not in self.seen, (
                    f"{resp.describe()}: a new external_id returned known id {body['id']}"
                )
                self.ids[key] = body["id"]
                self.seen[body["id"]] = body

        @precondition(lambda self: bool(self.ids))
        @rule(data=st.data())
        def get(self, data: st.DataObject) -> None:
            ws, external_id = data.draw(st.sampled_from(sorted(self.ids)))
            engagement_id = self.ids[(ws, external_id)]
            body = get_engagement(target, self.workspaces[ws].client, engagement_id, expand=INSIGHTS)
            self._observe(body, f"GET {engagement_id}", insights=True)

        @precondition(lambda self: emulator and bool(self.ids))
        @rule(data=st.data())
        def get_from_other_workspace(self, data: st.DataObject) -> None:
            ws, external_id = data.draw(st.sampled_from(sorted(self.ids)))
            resp = self.workspaces[1 - ws].client.get(f"/v2/engagements/{self.ids[(ws, external_id)]}")
            expect.problem(target, resp, 404)

        @precondition(lambda self: emulator)
        @rule(seconds=st.sampled_from([1, 3, 20, 60, 90, 180, 3600]))
        def advance_clock(self, seconds: int) -> None:
            target.advance(seconds)

        @precondition(lambda self: emulator)
        @rule(ws=st.integers(0, 1), limit=st.integers(1, 5))
        def walk_pages(self, ws: int, limit: int) -> None:
            target.settle()
            client = self.workspaces[ws].client
            items, cursor = [], None
            for _ in range(len(self.ids) + 2):
                params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
                resp = client.get("/v2/engagements", params=params)
                expect.status(resp, 200)
                page = expect.json_body(target, resp, "engagement_list")
                items += page["data"]
                if not page["has_more"]:
                    break
                cursor = page["next_cursor"]
            ids = [i["id"] for i in items]
            mine = sorted(v for (w, _), v in self.ids.items() if w == ws)
            assert sorted(ids) == mine, f"paged walk (limit {limit}) of workspace {ws} gave {sorted(ids)}, want {mine}"

        # --- invariants ---------------------------------------------------------------------------
        @invariant()
        def each_workspace_lists_exactly_its_engagements(self) -> None:
            if not emulator:
                return
            for ws, workspace in enumerate(self.workspaces):
                resp = workspace.client.get("/v2/engagements", params={"limit": "100"})
                expect.status(resp, 200)
                ids = [i["id"] for i in resp.json()["data"]]
                mine = sorted(v for (w, _), v in self.ids.items() if w == ws)
                assert len(ids) == len(set(ids)), f"workspace {ws} lists an engagement twice: {ids}"
                assert sorted(ids) == mine, (
                    f"workspace {ws} lists {sorted(ids)}; it owns exactly {mine} (one per external_id)"
                )

        # --- helpers ------------------------------------------------------------------------------
        def _observe(self, body: dict[str, Any], what: str, *, insights: bool) -> None:
            before = self.seen[body["id"]]
            assert stable_view({k: v for k, v in body.items() if k not in ("action_items", "signals")}) == stable_view(
                {k: v for k, v in before.items() if k not in ("action_items", "signals")}
            ), f"{what}: fixed fields changed:\n  was {stable_view(before)}\n  now {stable_view(body)}"
            assert_not_regressed(before, body, what)
            for name in ("action_items", "signals"):
                if name in before and name in body:
                    lost = {i["id"] for i in before[name]} - {i["id"] for i in body[name]}
                    assert not lost, f"{what}: {name} shrank, lost {sorted(lost)}"
            merged = dict(body)
            if not insights:
                merged.update({k: before[k] for k in ("action_items", "signals") if k in before})
            self.seen[body["id"]] = merged

    return EngagementMachine


@api_check("stateful")
def check_engagement_state_machine(target: Target, budget: Budget) -> None:
    """Random creates/replays/gets/lists/clock moves: one engagement per key, monotonic, isolated."""
    run_state_machine_as_test(
        machine_for(target),
        settings=hypothesis_settings(
            budget, examples=max(2, budget.max_examples // 4), stateful_step_count=budget.stateful_steps
        ),
    )
