"""openapi-python-client (pinned in the dev extra) generates a client from the served document, and the dialer
flow runs through it: every endpoint generated, every response parsed into its model and back to the same JSON.

An independent oracle: the generator is nobody's code here, and it types exactly what the document declares.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.clients.conftest import operation_count
from tests.conftest import DEFAULT_KEY, OnAThread

PACKAGE = "askelephant_generated_client"
# Generating the client runs openapi-python-client (and its ruff hook) as a process.
pytestmark = pytest.mark.slow


def generator() -> list[str]:
    script = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.fail("openapi-python-client is not installed: pip install '.[dev]' (it is pinned there)")
    return [script]


@pytest.fixture(scope="module")
def client_package(served_document: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("pyclient")
    target = out / PACKAGE
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}  # its ruff post-hook comes from this venv
    result = subprocess.run(
        [*generator(), "generate", "--path", str(served_document), "--output-path", str(target), "--meta", "none"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The generator warns (and carries on) for every schema or endpoint it cannot type: none is acceptable.
    assert "Warning" not in output, output
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_every_endpoint_is_generated(client_package: ModuleType, served_document: Path) -> None:
    api_dir = Path(client_package.__file__ or "").parent / "api"
    endpoints = [p for p in api_dir.rglob("*.py") if p.name != "__init__.py"]
    assert len(endpoints) == operation_count(served_document) > 20


def same(parsed: Any, raw: Any, where: str = "$") -> None:
    """The model's to_dict() is the JSON the server sent: nothing dropped, nothing retyped."""
    if isinstance(raw, dict):
        assert isinstance(parsed, dict) and set(parsed) == set(raw), f"{where}: {sorted(parsed)} != {sorted(raw)}"
        for key in raw:
            same(parsed[key], raw[key], f"{where}.{key}")
    elif isinstance(raw, list):
        assert isinstance(parsed, list) and len(parsed) == len(raw), where
        for i, (p, r) in enumerate(zip(parsed, raw, strict=True)):
            same(p, r, f"{where}[{i}]")
    elif isinstance(raw, str) and isinstance(parsed, str) and parsed != raw:
        # Timestamps come back as datetime.isoformat(): the same instant, another spelling.
        assert datetime.fromisoformat(parsed) == datetime.fromisoformat(raw), f"{where}: {parsed} != {raw}"
    else:
        assert parsed == raw, f"{where}: {parsed!r} != {raw!r}"


class Flow:
    """Calls through the generated client, counting responses and requiring each to be parsed."""

    def __init__(self, emulator: OnAThread) -> None:
        client_mod = module("client")
        self.base = emulator.origin
        # The API key goes raw (no Bearer), as the apiKey scheme says: an empty prefix.
        self.client = client_mod.AuthenticatedClient(
            base_url=f"{self.base}/api", token=DEFAULT_KEY, prefix="", raise_on_unexpected_status=True
        )
        self.parsed = 0

    def call(self, operation: str, status: int, model: str, **kwargs: Any) -> Any:
        tag, name = operation.split(".")
        response = module(f"api.{tag}.{name}").sync_detailed(client=self.client, **kwargs)
        assert response.status_code == status, response.content
        expected = getattr(module("models"), model)
        assert isinstance(response.parsed, expected), f"{operation} {status}: parsed {type(response.parsed)}"
        same(response.parsed.to_dict(), httpx.Response(status, content=response.content).json(), operation)
        self.parsed += 1
        return response.parsed

    def advance(self, seconds: int) -> None:
        httpx.post(f"{self.base}/__admin/clock/advance", json={"seconds": seconds}).raise_for_status()


def test_the_dialer_flow_through_the_generated_client(client_package: ModuleType, emulator: OnAThread) -> None:
    flow = Flow(emulator)
    with flow.client:
        run_flow(flow)
    assert flow.parsed == 19


def run_flow(flow: Flow) -> None:
    models = module("models")
    body = models.EngagementCreateIn(
        type_=models.EngagementCreateInType.CALL,
        title="Sales call with Jane Doe",
        source_system="my-dialer",
        external_id="generated-python-1",
        media_url="https://recordings.example.com/generated-python-1.mp3",
        external_url="https://my-dialer.example.com/calls/1",
        participants=[
            models.ParticipantIn(name="Alice Smith", email="alice@example.com", is_owner=True),
            models.ParticipantIn(name="Jane Doe", email="jane@customer.com", phone="+14155550100"),
        ],
    )
    created = flow.call("engagements.create_engagement", 201, "Engagement", body=body)
    replayed = flow.call("engagements.create_engagement", 200, "Engagement", body=body)
    assert replayed.id == created.id and created.processing_status.value == "PENDING"

    flow.advance(600)
    everything = list(models.GetEngagementExpandItem)
    done = flow.call("engagements.get_engagement", 200, "Engagement", engagement_id=created.id, expand=everything)
    assert done.processing_status.value == "COMPLETED"
    assert done.action_items and done.signals and isinstance(done.transcript, str)
    assert [c.first_name for c in done.contacts] == ["Alice", "Jane"] and done.owner is not None
    timeline = flow.call("engagements.get_transcript_timeline", 200, "TranscriptTimeline", engagement_id=created.id)
    assert timeline.entries

    for n in range(2, 5):
        extra = models.EngagementCreateIn.from_dict({**body.to_dict(), "external_id": f"generated-python-{n}"})
        flow.call("engagements.create_engagement", 201, "Engagement", body=extra)
    seen: list[str] = []
    cursor: Any = module("types").UNSET
    while True:
        page = flow.call("engagements.list_engagements", 200, "EngagementList", limit=1, cursor=cursor)
        seen += [e.id for e in page.data]
        if not page.has_more:
            assert page.next_cursor is None
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 4

    bad = models.EngagementCreateIn.from_dict({**body.to_dict(), "external_id": "x", "external_url": "javascript:1"})
    problem = flow.call("engagements.create_engagement", 422, "Problem", body=bad)
    assert problem.errors[0].field == "external_url" and problem.errors[0].code.value == "unsafe_scheme"
    missing = flow.call("engagements.get_engagement", 404, "Problem", engagement_id="ngmt_missing")
    assert missing.type_.value == "https://app.askelephant.ai/errors/not_found"

    for operation, model in (
        ("contacts.list_contacts", "ContactList"),
        ("companies.list_companies", "CompanyList"),
        ("users.list_users", "UserList"),
        ("tags.list_tags", "TagList"),
    ):
        flow.call(operation, 200, model)
    tag = flow.call("tags.create_tag", 201, "Tag", body=models.TagIn(name="Generated"))
    flow.call(
        "engagements.replace_engagement_tags",
        200,
        "Engagement",
        engagement_id=created.id,
        body=models.ReplaceTagsIn(tag_ids=[tag.id]),
    )
