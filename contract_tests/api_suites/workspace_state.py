"""What the workspace's own state decides (issue 20 §5–§8): the analysis' tags, a submitted transcript that stays
supplementary, CRM filters resolved through stored associations, the privacy default. Each needs the emulator's
control plane to set that state up (seed data, the clock), so these run against the emulator only."""

from __future__ import annotations

import json
from typing import Any

from contract_tests.api_suites import expect
from contract_tests.api_suites.common import created, get_engagement, minimal_payload
from contract_tests.checks import Budget, api_check
from contract_tests.target import Target


def _load_seed_data(target: Target, workspace_id: str, doc: dict[str, Any]) -> Any:
    return target.admin_json("POST", "/fixtures", {"workspace_id": workspace_id, **doc})


@api_check("pipeline", needs_admin=True)
def check_tagging_always_runs(target: Target, budget: Budget) -> None:
    """A processed call carries workspace tags the analysis applied, even with run_workflows false (docs: tagging
    always runs), and the stage's v1.engagement.updated announces them."""
    workspace = target.new_workspace()
    client = workspace.client
    for name in ("Pricing", "Security review"):
        expect.status(client.post("/v2/tags", {"name": name}), 201)
    engagement = created(
        target, client.create_engagement(minimal_payload(target, target.fresh_external_id(), run_workflows=False))
    )
    target.advance(900)
    body = get_engagement(target, client, engagement["id"], expand="tags")
    assert body["processing_status"] in ("COMPLETED", "FAILED"), f"not processed after 15 min: {body}"
    assert body["tags"], f"{engagement['id']}: no tags after processing (docs: tagging always runs)"


@api_check("pipeline", needs_admin=True)
def check_submitted_transcript_is_supplementary(target: Target, budget: Budget) -> None:
    """A submitted plain `transcript` is stored alongside the media, which is still transcribed: the transcript
    served is the media's, not the submitted text (create engagement)."""
    client = target.new_workspace().client
    submitted = "Contract Test: this line was submitted, not transcribed."
    payload = minimal_payload(target, target.fresh_external_id(), transcript=submitted)
    engagement = created(target, client.create_engagement(payload))
    target.advance(900)
    body = get_engagement(target, client, engagement["id"], expand="transcript")
    assert body["transcript"], f"{engagement['id']}: no transcript after processing"
    assert "was submitted" not in body["transcript"], (
        f"{engagement['id']}: the submitted transcript replaced the transcription: {body['transcript'][:200]!r}"
    )


@api_check("lists", needs_admin=True)
def check_crm_filters_resolve_through_stored_associations(target: Target, budget: Budget) -> None:
    """filter[crm_associations] on engagements finds the calls of the contact and the company holding those CRM
    ids (docs: CRM associations resolve into the participant and company buckets)."""
    workspace = target.new_workspace()
    _load_seed_data(
        target,
        workspace.workspace_id,
        {
            "companies": [
                {
                    "name": "Contract Co",
                    "domains": [{"domain": "contract-co.example"}],
                    "crm_association": {"object_type": "company", "crm_object_id": "C-1", "source": "hubspot"},
                }
            ],
            "contacts": [
                {
                    "first_name": "Jo",
                    "emails": [{"email": "jo@contract-co.example"}],
                    "crm_association": {"object_type": "contact", "crm_object_id": "P-1", "source": "hubspot"},
                }
            ],
        },
    )
    client = workspace.client
    jo = [{"name": "Jo", "email": "jo@contract-co.example"}]
    theirs = created(
        target, client.create_engagement(minimal_payload(target, target.fresh_external_id(), participants=jo))
    )
    other = created(target, client.create_engagement(minimal_payload(target, target.fresh_external_id())))
    for entry in ({"id": "P-1", "object_type": "contact"}, {"id": "C-1", "object_type": "company"}):
        resp = client.get("/v2/engagements", params={"filter[crm_associations][eq]": json.dumps([entry])})
        expect.status(resp, 200)
        ids = {e["id"] for e in expect.json_body(target, resp, "engagement_list")["data"]}
        assert ids == {theirs["id"]}, f"{resp.describe()}: {entry} found {sorted(ids)}, want {theirs['id']} only"
    assert other["id"] != theirs["id"]


@api_check("create", needs_admin=True)
def check_privacy_default_is_the_workspaces(target: Target, budget: Budget) -> None:
    """`is_private` omitted → the workspace's configured privacy behaviour (docs), set here by seed data."""
    workspace = target.new_workspace()
    client = workspace.client
    plain = created(target, client.create_engagement(minimal_payload(target, target.fresh_external_id())))
    assert plain["is_private"] is False, f"{plain['id']}: private without a workspace default"
    _load_seed_data(target, workspace.workspace_id, {"settings": {"is_private_default": True}})
    private = created(target, client.create_engagement(minimal_payload(target, target.fresh_external_id())))
    assert private["is_private"] is True, f"{private['id']}: the workspace default (private) was not applied"
    chosen = minimal_payload(target, target.fresh_external_id(), is_private=False)
    assert created(target, client.create_engagement(chosen))["is_private"] is False, "an explicit false was overridden"
