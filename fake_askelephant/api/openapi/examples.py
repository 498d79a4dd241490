"""Examples for the document, captured from an emulator: the dialer flow and the rest of the v2 surface, run
over HTTP against a fresh in-process app (seed 42, frozen clock, a fixed start time, the sample seed data).

Every captured body is validated against the model the document declares for it (request bodies with the
handlers' models, responses with resources.py, `extra="forbid"`): a view that drifts from its model fails here.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import field
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from ...app import create_app
from ...config import Settings
from ...core.records import dataclass
from ...core.timefmt import parse_iso
from ..context import emulator_key
from .operations import OPERATIONS
from .resources import EVENTS, Problem

KEY = "sk-apik_local.fakeaskelephant"
HOST = "127.0.0.1:8787"  # what the links in examples name, whatever port the capture ran on
START = parse_iso("2026-05-13T15:00:00Z")
SEED = 42

DIALER_CALL: dict[str, Any] = {
    "type": "CALL",
    "title": "Sales call with Jane Doe",
    "source_system": "my-dialer",
    "external_id": "call-20260513-001",
    "media_url": "https://recordings.example.com/call-20260513-001.mp3",
    "external_url": "https://my-dialer.example.com/calls/call-20260513-001",
    "run_workflows": True,
    "participants": [
        {"name": "Alice Smith", "email": "alice@example.com", "is_owner": True},
        {"name": "Jane Doe", "email": "jane@customer.com", "phone": "+14155550100"},
    ],
}


@dataclass
class Examples:
    """operationId → request body / status → response body; event type → webhook body."""

    requests: dict[str, Any] = field(default_factory=dict)
    responses: dict[str, dict[int, Any]] = field(default_factory=dict)
    events: dict[str, Any] = field(default_factory=dict)


class _Recorder:
    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client
        self.examples = Examples()

    async def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        status: int,
        json: Any = None,
        form: dict[str, str] | None = None,
        keep: bool = True,
    ) -> Any:
        headers = {"Authorization": KEY, "Host": HOST}
        data: Any = None
        if json is not None:
            data, headers["Content-Type"] = _dumps(json), "application/json"
        elif form is not None:
            data = form
            del headers["Authorization"]
        async with self.client.request(method, path, data=data, headers=headers) as resp:
            text = await resp.text()
            if resp.status != status:
                raise AssertionError(f"{method} {path}: expected {status}, got {resp.status}: {text}")
            body = await resp.json(content_type=None) if text else None
        if keep:
            self._keep(operation, status, json if json is not None else form, body)
        return body

    def _keep(self, operation: str, status: int, request: Any, body: Any) -> None:
        spec = OPERATIONS[operation]
        if request is not None and spec.body is not None and operation not in self.examples.requests:
            spec.body.model_validate(request)
            self.examples.requests[operation] = request
        if body is None:
            return
        model = Problem if status >= 400 else spec.response
        assert model is not None, operation
        model.model_validate(body)
        self.examples.responses.setdefault(operation, {}).setdefault(status, body)

    async def admin(self, method: str, path: str, json: Any = None) -> Any:
        async with self.client.request(method, f"/__admin{path}", json=json, headers={"Host": HOST}) as resp:
            assert resp.status < 300, await resp.text()
            return await resp.json() if resp.content_type.endswith("json") else None


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value)


async def _flow(r: _Recorder) -> None:
    """Every public operation at least once, its success and, where it has one, a typical error."""
    created = await r.call("create_engagement", "POST", "/api/v2/engagements", json=DIALER_CALL, status=201)
    await r.call("create_engagement", "POST", "/api/v2/engagements", json=DIALER_CALL, status=200)
    bad = {**DIALER_CALL, "external_id": "call-2", "external_url": "java\tscript:alert(1)", "participants": [{}]}
    await r.call("create_engagement", "POST", "/api/v2/engagements", json=bad, status=422)
    engagement = f"/api/v2/engagements/{created['id']}"
    second = {**DIALER_CALL, "external_id": "call-20260513-002", "title": "Follow-up with Jane Doe"}
    await r.call("get_engagement", "GET", "/api/v2/engagements/ngmt_missing", status=404)
    await r.call("get_transcript_timeline", "GET", f"{engagement}/transcript_timeline", status=404)
    await r.admin("POST", "/clock/advance", {"seconds": 600})
    everything = ",".join(OPERATIONS["get_engagement"].query[0].schema["items"]["enum"])
    await r.call("get_engagement", "GET", f"{engagement}?expand={everything}", status=200)
    await r.call("get_transcript_timeline", "GET", f"{engagement}/transcript_timeline", status=200)
    comment = await r.call(
        "create_transcript_comment",
        "POST",
        f"{engagement}/transcript_comments",
        json={"body": "Pricing objection handled well here.", "anchor": {"entry_index": 7}},
        status=201,
    )
    await r.call(
        "create_transcript_comment", "POST", f"{engagement}/transcript_comments", json={"body": "   "}, status=422
    )
    comment_path = f"/api/v2/transcript_comments/{comment['id']}"
    await r.call("get_transcript_comment", "GET", comment_path, status=200)
    await r.call("update_transcript_comment", "PATCH", comment_path, json={"status": "resolved"}, status=200)
    await r.call("delete_transcript_comment", "DELETE", comment_path, status=200)
    await r.call("get_transcript_comment", "GET", comment_path, status=404)
    await r.call("create_engagement", "POST", "/api/v2/engagements", json=second, status=201)
    page = await r.call("list_engagements", "GET", "/api/v2/engagements?limit=1", status=200)
    other_query = f"/api/v2/engagements?limit=1&search=Jane&cursor={page['next_cursor']}"
    await r.call("list_engagements", "GET", other_query, status=400)

    contacts = await r.call("list_contacts", "GET", "/api/v2/contacts?limit=2", status=200)
    contact = contacts["data"][0]
    await r.call("get_contact", "GET", f"/api/v2/contacts/{contact['id']}", status=200)
    await r.call(
        "update_contact",
        "PATCH",
        f"/api/v2/contacts/{contact['id']}",
        json={"time_zone": "America/New_York", "description": "Prefers mornings."},
        status=200,
    )
    await r.call(
        "set_contact_crm_association",
        "PUT",
        f"/api/v2/contacts/{contact['id']}/crm_association",
        json={"object_type": "contact", "crm_object_id": "67890", "source": "hubspot"},
        status=200,
    )
    ids = [c["id"] for c in contacts["data"]]
    await r.call("replace_engagement_contacts", "PUT", f"{engagement}/contacts", json={"contact_ids": ids}, status=200)
    await r.call("list_contact_engagements", "GET", f"/api/v2/contacts/{contact['id']}/engagements?limit=5", status=200)
    await r.call(
        "clear_contact_crm_association", "DELETE", f"/api/v2/contacts/{contact['id']}/crm_association", status=200
    )
    lead = {
        "first_name": "Lena",
        "last_name": "Ortiz",
        "emails": [{"email": "lena.ortiz@prospect.example", "is_primary": True}],
        "phone_numbers": [{"phone_number": "+14155550199"}],
        "crm_association": {"object_type": "contact", "crm_object_id": "00Q5e00000ABC", "source": "salesforce"},
    }
    new_contact = await r.call("create_contact", "POST", "/api/v2/contacts", json=lead, status=201)
    await r.call("create_contact", "POST", "/api/v2/contacts", json=lead, status=409)
    await r.call("delete_contact", "DELETE", f"/api/v2/contacts/{new_contact['id']}", status=200)

    companies = await r.call("list_companies", "GET", "/api/v2/companies?limit=2", status=200)
    await r.call("get_company", "GET", f"/api/v2/companies/{companies['data'][0]['id']}", status=200)
    company = {"domains": [{"domain": "https://www.Acme.com/", "is_primary": True}], "name": "Acme"}
    await r.call("create_company", "POST", "/api/v2/companies", json=company, status=201)
    await r.call("create_company", "POST", "/api/v2/companies", json=company, status=409)
    first_company = f"/api/v2/companies/{companies['data'][0]['id']}"
    await r.call("list_company_engagements", "GET", f"{first_company}/engagements?limit=5", status=200)
    await r.call("update_company", "PATCH", first_company, json={"description": "Key account."}, status=200)
    await r.call(
        "set_company_crm_association",
        "PUT",
        f"{first_company}/crm_association",
        json={"object_type": "company", "crm_object_id": "12345", "source": "hubspot"},
        status=200,
    )
    await r.call("clear_company_crm_association", "DELETE", f"{first_company}/crm_association", status=200)
    users = await r.call("list_users", "GET", "/api/v2/users?limit=2", status=200)
    await r.call("get_user", "GET", f"/api/v2/users/{users['data'][0]['id']}", status=200)

    tags = await r.call("list_tags", "GET", "/api/v2/tags?limit=2", status=200)
    await r.call(
        "replace_engagement_tags",
        "PUT",
        f"{engagement}/tags",
        json={"tag_ids": [t["id"] for t in tags["data"]]},
        status=200,
    )
    new_tag = {"name": "Follow-up", "hex_color": "#1E90FF", "description": "Needs a call back."}
    tag = await r.call("create_tag", "POST", "/api/v2/tags", json=new_tag, status=201)
    await r.call("create_tag", "POST", "/api/v2/tags", json={"name": "follow-up"}, status=409)
    await r.call("update_tag", "PATCH", f"/api/v2/tags/{tag['id']}", json={"name": "Follow up"}, status=200)
    await r.call("delete_tag", "DELETE", f"/api/v2/tags/{tag['id']}", status=200)

    client = await r.admin("POST", "/oauth-clients", {"scopes": ["engagements:read"]})
    token_request = {
        "grant_type": "client_credentials",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "scope": "engagements:read",
    }
    await r.call("issue_token", "POST", "/api/v1/oauth/token", form=token_request, status=200)
    await r.call("issue_token", "POST", "/api/v1/oauth/token", form={"grant_type": "password"}, status=400)
    # authorization_code with PKCE (RFC 7636 appendix B's verifier and challenge), then a refresh.
    consent = {
        "redirect_uri": "https://dialer.example.com/oauth/callback",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    code = await r.admin("POST", f"/oauth-clients/{client['client_id']}/authorize", consent)
    exchange = {
        "grant_type": "authorization_code",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "code": code["code"],
        "redirect_uri": consent["redirect_uri"],
        "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    }
    tokens = await r.call("issue_token", "POST", "/api/v1/oauth/token", form=exchange, status=200)
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refresh |= {"client_id": client["client_id"], "client_secret": client["client_secret"]}
    await r.call("issue_token", "POST", "/api/v1/oauth/token", form=refresh, status=200)

    # The rest of the event types: a company delete, and an engagement delete (no public route: the control plane).
    last_company = companies["data"][-1]["id"]
    await r.call("delete_company", "DELETE", f"/api/v2/companies/{last_company}", status=200)
    await r.admin("DELETE", f"/engagements/{created['id']}")
    for envelope in (await r.admin("GET", "/events"))["data"]:
        r.examples.events.setdefault(envelope["type"], envelope)


async def _capture() -> Examples:
    settings = Settings(seed=SEED, time_scale=0.0, start_time=START, fixtures="sample", public_url=f"http://{HOST}")
    app = create_app(settings)
    # Media links are signed with a random per-process key; the example's is fixed so the document is reproducible.
    app[emulator_key].media_key = hashlib.sha256(b"fake-askelephant openapi example").digest()
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        recorder = _Recorder(client)
        await _flow(recorder)
    examples = recorder.examples
    for event_type, model in EVENTS.items():
        if event_type in examples.events:
            model.model_validate(examples.events[event_type])
    return examples


def capture() -> Examples:
    """Run the flow on a private event loop (the generator is a command and a test, not a request handler)."""
    return asyncio.run(_capture())
