"""The Host allowlist of a loopback-bound emulator (api/hosts.py): the DNS-rebinding defence."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from fake_askelephant.api.hosts import allowed_names, hostname_of, is_loopback_name
from fake_askelephant.config import ConfigError, Settings, load_settings
from tests.conftest import AUTH, Api, frozen_settings, problem

FOREIGN = "rebound.example:8787"


async def test_a_foreign_host_gets_421_on_the_api_and_the_control_plane(api: Api) -> None:
    read = await api.client.get("/api/v2/engagements", headers={**AUTH, "Host": FOREIGN})
    body = await problem(read, 421, "misdirected_request")
    assert "--allowed-host rebound.example" in body["detail"]
    change = await api.client.post(
        "/__admin/webhook-endpoints", json={"url": "http://127.0.0.1:9/x"}, headers={"Host": FOREIGN}
    )
    await problem(change, 421, "misdirected_request")
    assert list(api.emulator.webhooks.endpoints.values()) == []


@pytest.mark.parametrize(
    "host", ["localhost:8787", "LOCALHOST", "app.localhost:1", "127.0.0.1:9", "127.8.9.10", "[::1]:8787", "localhost."]
)
async def test_loopback_names_are_served(api: Api, host: str) -> None:
    resp = await api.client.get("/api/v2/engagements", headers={**AUTH, "Host": host})
    assert resp.status == 200, await resp.text()


@pytest.mark.parametrize("host", ["localhost.evil.example", "127.0.0.1.nip.io", "10.0.0.1", "[::ffff:7f00:1"])
async def test_names_that_only_look_local_are_refused(api: Api, host: str) -> None:
    resp = await api.client.get("/__admin/health", headers={"Host": host})
    await problem(resp, 421, "misdirected_request")


@pytest.mark.parametrize(
    ("settings", "host"),
    [
        ({"allowed_hosts": ("askelephant",)}, "askelephant:8787"),
        ({"public_url": "http://fake.internal:8787"}, "fake.internal"),
        ({"allowed_hosts": ("*",)}, FOREIGN),
        ({"host": "0.0.0.0"}, FOREIGN),  # a container: clients use names nobody lists in advance
    ],
)
async def test_trusted_names_and_non_loopback_binds_are_served(make_api: Any, settings: dict[str, Any], host: str):
    api: Api = await make_api(frozen_settings(**settings))
    resp = await api.client.get("/api/v2/engagements", headers={**AUTH, "Host": host})
    assert resp.status == 200, await resp.text()


def test_helpers_read_hosts_as_the_header_spells_them() -> None:
    assert hostname_of("[::1]:8787") == "::1"
    assert hostname_of("Example.COM.:80") == "example.com"
    assert hostname_of("a:b:c") is None
    assert is_loopback_name("127.0.0.53") and not is_loopback_name("128.0.0.1")
    assert allowed_names(Settings(host="::1", allowed_hosts=("x",))) == frozenset({"x"})
    assert allowed_names(Settings(host="192.168.1.5")) is None


@pytest.mark.parametrize("value", ["http://x", "x:80", "a b", ""])
def test_allowed_host_flag_rejects_urls_and_ports(value: str) -> None:
    with pytest.raises(ConfigError, match="allowed-host"):
        load_settings(argparse.Namespace(allowed_hosts=[value]), {})
