"""The §10 state survives `--state-file` restarts and snapshot/restore, without doubling the seed data."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from tests.conftest import Api, frozen_settings


async def everything(api: Api) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in ("users", "contacts", "companies", "tags"):
        resp = await api.call("GET", f"/api/v2/{path}?limit=100")
        assert resp.status == 200, await resp.text()
        out[path] = (await resp.json())["data"]
    return out


async def build_state(api: Api) -> dict[str, Any]:
    """A bit of everything §10 stores: API-made, participant-made and fixture-made records, links, OAuth."""
    await api.call("POST", "/api/v2/companies", json={"name": "Customer", "domains": [{"domain": "customer.com"}]})
    created = await (await api.create()).json()
    tag = await (await api.call("POST", "/api/v2/tags", json={"name": "Mine"})).json()
    await api.call("PUT", f"/api/v2/engagements/{created['id']}/tags", json={"tag_ids": [tag["id"]]})
    await api.client.post("/__admin/fixtures", json={"users": [{"email": "rep@x.example", "role": "MANAGER"}]})
    client = await (await api.client.post("/__admin/oauth-clients", json={"scopes": ["contacts:read"]})).json()
    form = {
        "grant_type": "client_credentials",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
    }
    token = (await (await api.call("POST", "/api/v1/oauth/token", key=None, data=form)).json())["access_token"]
    await api.advance(600)
    path = f"/api/v2/engagements/{created['id']}/transcript_comments"
    comment = await (await api.call("POST", path, json={"body": "nice", "anchor": {"entry_index": 1}})).json()
    resolved = await api.call("PATCH", f"/api/v2/transcript_comments/{comment['id']}", json={"status": "resolved"})
    assert resolved.status == 200, await resolved.text()
    gone = await (await api.call("POST", "/api/v2/tags", json={"name": "Soft-deleted"})).json()
    assert (await api.call("DELETE", f"/api/v2/tags/{gone['id']}")).status == 200
    return {"engagement": created["id"], "client": client, "token": token, "form": form, "comment": comment["id"]}


async def test_restart_with_state_file_keeps_the_directory_once(make_api: Callable[..., Any], tmp_path: Path) -> None:
    settings = frozen_settings(fixtures="sample", state_file=str(tmp_path / "state.sqlite"))
    first: Api = await make_api(settings)
    made = await build_state(first)
    before = await everything(first)
    expanded = await (await first.get(made["engagement"], expand="contacts,companies,tags")).json()
    state_before = await (await first.client.get("/__admin/state")).json()
    await first.client.close()

    second: Api = await make_api(settings)
    assert await everything(second) == before  # no sample user or contact twice
    assert await (await second.get(made["engagement"], expand="contacts,companies,tags")).json() == expanded
    state_after = await (await second.client.get("/__admin/state")).json()
    assert state_after["workspaces"] == state_before["workspaces"]
    # OAuth survives, and new credentials do not repeat old ones (the RNG continues).
    bearer = f"Bearer {made['token']}"
    assert (await second.call("GET", "/api/v2/contacts", key=bearer)).status == 200
    assert (await second.call("POST", "/api/v1/oauth/token", key=None, data=made["form"])).status == 200
    again = await (await second.client.post("/__admin/oauth-clients", json={"scopes": ["contacts:read"]})).json()
    assert again["client_id"] != made["client"]["client_id"]
    comment = await (await second.call("GET", f"/api/v2/transcript_comments/{made['comment']}")).json()
    assert (comment["status"], comment["anchor"], comment["resolved_by"]) == (
        "resolved",
        {"entry_index": 1},
        "usr_local",
    )
    # A soft-deleted tag stays deleted, and its name stays free.
    assert (await second.call("POST", "/api/v2/tags", json={"name": "Soft-deleted"})).status == 201
    # Participants still find their contacts after the restart.
    replay = await (await second.create(external_id="after-restart")).json()
    linked = (await (await second.get(replay["id"], expand="contacts")).json())["contacts"]
    assert [c["id"] for c in linked] == [c["id"] for c in expanded["contacts"]]


async def test_snapshot_restore_brings_back_the_directory(make_api: Callable[..., Any]) -> None:
    api: Api = await make_api(frozen_settings(fixtures="sample"))
    made = await build_state(api)
    before = await everything(api)
    assert (await api.client.post("/__admin/snapshot", json={"name": "s"})).status == 201
    await api.call("DELETE", f"/api/v2/tags/{before['tags'][0]['id']}")
    await api.call("POST", "/api/v2/companies", json={"domains": [{"domain": "later.example"}]})
    await api.client.post("/__admin/reset")
    resp = await api.client.post("/__admin/restore", json={"name": "s"})
    assert resp.status == 200, await resp.text()
    assert await everything(api) == before
    bearer = f"Bearer {made['token']}"
    assert (await api.call("GET", "/api/v2/contacts", key=bearer)).status == 200


async def test_a_comment_saved_before_issue_20_loads_in_the_documented_shape(
    make_api: Callable[..., Any], tmp_path: Path
) -> None:
    """State files written before issue 20 stored `text`, `start_seconds`, `author_user_id` and no timeline id."""
    settings = frozen_settings(state_file=str(tmp_path / "state.sqlite"))
    first: Api = await make_api(settings)
    created = await (await first.create()).json()
    await first.advance(600)
    path = f"/api/v2/engagements/{created['id']}/transcript_comments"
    comment = await (await first.call("POST", path, json={"body": "Old shape"})).json()
    await first.client.close()
    with closing(sqlite3.connect(tmp_path / "state.sqlite")) as db, db:  # closed, not only committed (3.13 warns)
        ((key, body),) = db.execute(
            "SELECT key, body FROM records WHERE kind = 'workspace.directory.transcript_comments'"
        ).fetchall()
        row = json.loads(body)
        old = {
            "id": row["id"], "workspace_id": row["workspace_id"], "engagement_id": row["engagement_id"],
            "text": "Old shape", "start_seconds": 4.5, "author_user_id": row["created_by"],
            "created_at": row["created_at"], "updated_at": row["updated_at"],
        }  # fmt: skip
        db.execute("UPDATE records SET body = ? WHERE key = ?", (json.dumps(old).encode(), key))
    second: Api = await make_api(settings)
    loaded = await (await second.call("GET", f"/api/v2/transcript_comments/{comment['id']}")).json()
    assert loaded == comment
