"""The OpenAPI 3.1 document of the public API, generated from what the server runs.

  resources.py   response models: what core/views.py writes, as pydantic models
  operations.py  per route: its models, query parameters, statuses (the router gives methods, paths, scopes)
  patterns.py    the rules written in code (URL policies, timestamps, emails, domains) as JSON Schema patterns
  examples.py    examples captured from a seeded in-process emulator running the dialer flow
  build.py       the document: components from the models, operations from the router

`python -m fake_askelephant.api.openapi` writes it to wire_schemas/openapi.json, the copy /__admin/openapi.json
serves and the contract suites read (they never import the emulator); `--check` fails when the copy is stale,
and tests/emulator/test_openapi_document.py does the same on every run. Nothing here is imported at start-up.
"""

from __future__ import annotations

from typing import Any


def generate() -> dict[str, Any]:
    """The document as the current code would serve it (runs the example flow: about a second)."""
    from ...app import create_app
    from ...config import Settings
    from .build import build
    from .examples import capture

    return build(create_app(Settings(fixtures="none")), capture())
