"""/__media links (issue #19): signed with a random per-process key kept in the state file, not one derived from
the seed that /__admin/health shows, and built on the configured public URL, never on the request's Host."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import Api, frozen_settings, problem, seed_call


async def media_link(api: Api, engagement_id: str, **headers: str) -> str:
    resp = await api.call("GET", f"/api/v2/engagements/{engagement_id}?expand=media_url", headers=headers)
    link: str = (await resp.json())["media_url"]
    return link


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


async def test_a_link_cannot_be_minted_from_the_public_seed(api: Api) -> None:
    created = await (await api.create()).json()
    link = await media_link(api, created["id"])
    expires = parse_qs(urlsplit(link).query)["expires"][0]
    seed = (await (await api.client.get("/__admin/health")).json())["seed"]
    forged = hmac.new(f"media:{seed}".encode(), f"{created['id']}.{expires}".encode(), hashlib.sha256).hexdigest()[:32]
    resp = await api.client.get(f"/__media/{created['id']}?expires={expires}&signature={forged}", allow_redirects=False)
    await problem(resp, 403, "forbidden")
    assert (await api.client.get(path_of(link), allow_redirects=False)).status == 302


async def test_two_emulators_with_one_seed_sign_differently(make_api: Callable[..., Any]) -> None:
    first: Api = await make_api()
    second: Api = await make_api()
    one = await (await first.create()).json()
    two = await (await second.create()).json()
    assert one["id"] == two["id"]  # same seed, same ids…
    link_one, link_two = await media_link(first, one["id"]), await media_link(second, two["id"])
    assert path_of(link_one) != path_of(link_two)  # …but not the same key
    assert (await second.client.get(path_of(link_one), allow_redirects=False)).status == 403


async def test_the_host_header_does_not_choose_the_links_host(make_api: Callable[..., Any]) -> None:
    # Bound beyond loopback (a container), so any Host reaches the handler (api/hosts.py refuses it on loopback).
    api: Api = await make_api(frozen_settings(host="0.0.0.0"))
    created = await (await api.create()).json()
    link = await media_link(api, created["id"], Host="evil.example")
    assert urlsplit(link).netloc == f"127.0.0.1:{api.client.port}"  # where the connection arrived


async def test_the_configured_public_url_is_the_links_base(make_api: Callable[..., Any]) -> None:
    api: Api = await make_api(frozen_settings(host="0.0.0.0", public_url="https://askelephant.test:8443/emu/"))
    created = await (await api.create()).json()
    link = await media_link(api, created["id"], Host="evil.example")
    assert link.startswith(f"https://askelephant.test:8443/emu/__media/{created['id']}?expires=")


async def test_links_survive_a_restart_with_the_state_file(make_api: Callable[..., Any], tmp_path: Path) -> None:
    settings = frozen_settings(state_file=str(tmp_path / "state.sqlite"))
    first: Api = await make_api(settings)
    created = await (await first.create()).json()
    link = await media_link(first, created["id"])
    await first.client.close()
    second: Api = await make_api(settings)
    resp = await second.client.get(path_of(link), allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == seed_call()["media_url"]
