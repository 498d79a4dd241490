"""Issue 20 §8: `is_private` omitted → "the workspace's configured privacy behavior" (create engagement), set
by seed data or the control plane; an engagement's `crm_association` can be set (seed data / admin) and shows
wherever the docs show it (get engagement, webhook payloads)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, frozen_settings, problem, seed_call


async def test_the_workspace_privacy_default_applies_when_is_private_is_omitted(api: Api) -> None:
    assert (await (await api.create(seed_call(external_id="a"))).json())["is_private"] is False
    resp = await api.client.patch("/__admin/workspaces/wrks_local", json={"is_private_default": True})
    assert await resp.json() == {
        "object": "workspace_settings",
        "workspace_id": "wrks_local",
        "is_private_default": True,
    }
    assert (await (await api.create(seed_call(external_id="b"))).json())["is_private"] is True
    assert (await (await api.create(seed_call(external_id="c", is_private=False))).json())["is_private"] is False
    api.emulator.reset()  # a plain reset keeps configuration, like users and keys
    assert (await (await api.client.get("/__admin/workspaces/wrks_local")).json())["is_private_default"] is True


async def test_seed_data_sets_the_privacy_default(make_api: Any, tmp_path: Any) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text("settings: {is_private_default: true}\nworkspaces:\n  - {workspace_id: wrks_b}\n")
    api: Api = await make_api(frozen_settings(fixtures=str(path)))
    assert (await (await api.create()).json())["is_private"] is True
    other = await api.new_key(["workspace:admin"], workspace_id="wrks_b")
    assert (await (await api.create(key=other)).json())["is_private"] is False
    bad = await api.client.post("/__admin/fixtures", json={"settings": {"is_private_default": "yes"}})
    assert (await problem(bad, 422, "validation_failed"))["errors"][0]["field"] == "settings.is_private_default"


async def test_an_engagements_crm_association_shows_on_reads_and_in_its_updated_event(api: Api) -> None:
    created = await (await api.create()).json()
    assert "crm_association" not in created
    association = {"object_type": "deal", "crm_object_id": "006XYZ", "source": "salesforce"}
    resp = await api.client.put(f"/__admin/engagements/{created['id']}/crm_association", json=association)
    assert (await resp.json())["crm_association"] == association
    assert (await (await api.get(created["id"])).json())["crm_association"] == association
    update = [e for e in api.emulator.bus.log if e.type == "v1.engagement.updated"][-1].envelope()["data"]
    assert update["object"]["crm_association"] == association
    assert update["previous_attributes"]["crm_association"] is None


async def test_unknown_workspaces_are_404(api: Api) -> None:
    await problem(await api.client.patch("/__admin/workspaces/wrks_nope", json={}), 404, "not_found")
