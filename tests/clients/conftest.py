"""One emulator on a loopback port for the generated clients, and the document it serves, saved to a file."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import OnAThread, served_on_a_thread


@pytest.fixture(scope="module")
def emulator() -> Iterator[OnAThread]:
    with served_on_a_thread() as running:
        yield running


@pytest.fixture(scope="module")
def served_document(emulator: OnAThread, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a vendor's generator reads: the document as the running emulator serves it."""
    with urllib.request.urlopen(f"{emulator.origin}/__admin/openapi.json", timeout=10) as resp:
        doc: dict[str, Any] = json.load(resp)
    path = tmp_path_factory.mktemp("openapi") / "openapi.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def operation_count(document: Path) -> int:
    doc = json.loads(document.read_text(encoding="utf-8"))
    return sum(1 for item in doc["paths"].values() for m in item if m in ("get", "post", "put", "patch", "delete"))
