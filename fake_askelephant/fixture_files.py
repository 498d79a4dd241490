"""Start-up seed data: `--fixtures sample` (default, made per --seed), `none`, or a YAML/JSON file."""

from __future__ import annotations

from pathlib import Path

from .api.fixture_schemas import parse_fixtures
from .core.errors import DomainError, ValidationFailed
from .core.fixtures import WorkspaceFixture
from .core.sample_data import sample_workspace
from .core.store import DEFAULT_WORKSPACE

SAMPLE = "sample"
NONE = "none"


class FixtureError(ValueError):
    """A fixture file that cannot be read, parsed or loaded; the CLI exits 2 with this message."""


def startup_fixtures(setting: str, seed: int) -> list[WorkspaceFixture]:
    if setting == SAMPLE:
        return [sample_workspace(seed, DEFAULT_WORKSPACE)]
    if setting == NONE:
        return []
    return load_fixture_file(Path(setting))


def load_fixture_file(path: Path) -> list[WorkspaceFixture]:
    import yaml  # only fixture files need it: ~0.015 s off start-up

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise FixtureError(f"--fixtures {path}: cannot read it: {exc}") from exc
    except yaml.YAMLError as exc:
        raise FixtureError(f"--fixtures {path}: not valid YAML: {exc}") from exc
    try:
        return parse_fixtures(data)
    except ValidationFailed as exc:
        raise FixtureError(f"--fixtures {path}: {describe(exc)}") from exc


def describe(exc: DomainError) -> str:
    """One line for a terminal: every field error of a ValidationFailed, else the message."""
    if isinstance(exc, ValidationFailed):
        return "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
    return str(exc)
