"""Control plane basics (pipeline.md §7): health, clock, reset, state."""

from __future__ import annotations

from fake_askelephant.core.timefmt import format_ms, parse_iso
from tests.conftest import T0, Api, problem


async def test_health(api: Api) -> None:
    resp = await api.client.get("/__admin/health")
    body = await resp.json()
    assert body["status"] == "ok" and body["seed"] == 1 and body["time_scale"] == 0.0
    assert body["now"] == format_ms(T0)
    assert resp.headers["X-Request-Id"].startswith("rid_")


async def test_clock_advance_and_set(api: Api) -> None:
    resp = await api.client.post("/__admin/clock/advance", json={"seconds": 90.5})
    assert (await resp.json())["now"] == format_ms(T0 + 90_500)
    resp = await api.client.post("/__admin/clock/set", json={"now": "2026-03-10T00:00:00Z"})
    assert (await resp.json())["now"] == "2026-03-10T00:00:00.000Z"
    back = await api.client.post("/__admin/clock/set", json={"now": "2026-03-09T00:00:00Z"})
    body = await problem(back, 422, "validation_failed")
    assert body["errors"][0]["field"] == "now"
    far = await api.client.post("/__admin/clock/set", json={"now": "9999-12-31T23:59:59-01:00"})
    assert (await problem(far, 422, "validation_failed"))["errors"][0]["code"] == "invalid_range"
    bad = await api.client.post("/__admin/clock/advance", json={"seconds": -5})
    await problem(bad, 422, "validation_failed")
    clock = await (await api.client.get("/__admin/clock")).json()
    assert clock == {"now": "2026-03-10T00:00:00.000Z", "time_scale": 0.0}


async def test_clock_set_runs_due_work_on_the_way(api: Api) -> None:
    eid = (await (await api.create()).json())["id"]
    await api.client.post("/__admin/clock/set", json={"now": format_ms(T0 + 3_600_000)})
    body = await (await api.get(eid)).json()
    assert body["processing_status"] == "COMPLETED"
    assert parse_iso(body["updated_at"]) < T0 + 600_000  # stages ran at their own times


async def test_reset_clears_resources_but_keeps_keys(api: Api) -> None:
    key = await api.new_key(["engagements:read", "engagements:write"], workspace_id="wrks_two")
    await api.create()
    await api.create(key=key)
    resp = await api.client.post("/__admin/reset?workspace_id=wrks_two")
    assert resp.status == 200
    mine = await (await api.call("GET", "/api/v2/engagements")).json()
    theirs = await (await api.call("GET", "/api/v2/engagements", key=key)).json()
    assert len(mine["data"]) == 1 and theirs["data"] == []
    await api.client.post("/__admin/reset")
    assert (await (await api.call("GET", "/api/v2/engagements")).json())["data"] == []
    assert (await api.create(key=key)).status == 201  # key survived
    events = await (await api.client.get("/__admin/events")).json()
    # Both non-user participants become contacts, announced before the engagement (pipeline.md §3).
    assert [e["type"] for e in events["data"]] == ["v1.contact.created", "v1.contact.created", "v1.engagement.created"]


async def test_reset_all_drops_extra_keys_and_restores_the_default(api: Api) -> None:
    key = await api.new_key(["engagements:read"], workspace_id="wrks_two")
    await api.client.post("/__admin/reset?all=true")
    await problem(await api.call("GET", "/api/v2/engagements", key=key), 401, "unauthorized")
    assert (await api.call("GET", "/api/v2/engagements")).status == 200


async def test_reset_stops_pending_pipelines(api: Api) -> None:
    await api.create()
    await api.client.post("/__admin/reset")
    await api.advance(600)
    events = await (await api.client.get("/__admin/events")).json()
    assert events["data"] == []


async def test_state_dump_shows_keys_without_secrets(api: Api) -> None:
    await api.create()
    state = await (await api.client.get("/__admin/state")).json()
    ws = next(w for w in state["workspaces"] if w["id"] == "wrks_local")
    assert ws["engagements"][0]["external_id"] == "call-20260513-001"
    assert ws["api_keys"][0]["key_id"] == "local"
    assert "fakeaskelephant" not in str(state)


async def test_admin_errors_are_problem_json(api: Api) -> None:
    await problem(await api.client.get("/__admin/nope"), 404, "not_found")
    json_type = {"Content-Type": "application/json"}
    await problem(await api.client.post("/__admin/clock/advance", data=b"{", headers=json_type), 400, "invalid_request")
    await problem(await api.client.post("/__admin/reset?workspace_id=bad"), 422, "validation_failed")


async def test_api_key_with_user_becomes_owner(api: Api) -> None:
    resp = await api.client.post(
        "/__admin/api-keys",
        json={
            "scopes": ["engagements:write", "engagements:read"],
            "workspace_id": "wrks_acme",
            "user": {"email": "rep@acme.example", "first_name": "Rita", "role": "MEMBER"},
        },
    )
    body = await resp.json()
    assert body["workspace_id"] == "wrks_acme" and body["user_id"].startswith("usr_")
    created = await (await api.create(key=body["key"])).json()
    assert created["owner_user_id"] == body["user_id"]


async def test_schemas_and_openapi_are_served(api: Api) -> None:
    import jsonschema
    from openapi_spec_validator import validate as validate_openapi

    index = await (await api.client.get("/__admin/schemas")).json()
    names = {s["name"] for s in index["data"]}
    assert {"engagement", "problem", "webhook_envelope", "transcript_timeline"} <= names
    schema = await (await api.client.get("/__admin/schemas/engagement.json")).json()
    assert schema["$id"].endswith("/__admin/schemas/engagement.json")
    common = await (await api.client.get("/__admin/schemas/common")).json()
    created = await (await api.create()).json()
    registry = (
        __import__("referencing")
        .Registry()
        .with_resources([(common["$id"], __import__("referencing").Resource.from_contents(common))])
    )
    jsonschema.Draft202012Validator(schema, registry=registry).validate(created)
    await problem(await api.client.get("/__admin/schemas/nope"), 404, "not_found")
    doc = await (await api.client.get("/__admin/openapi.json")).json()
    validate_openapi(doc)
    assert doc["servers"][0]["url"].endswith("/api") and "/v2/engagements" in doc["paths"]
