"""Seed data at start-up (`--fixtures sample|none|FILE`), apart from the document's wire models in seed_data.py:
those load only for a fixture file or on the first `POST /__admin/fixtures` (issue 22 §5)."""

from __future__ import annotations

from pathlib import Path

from ...core.errors import DomainError, ValidationFailed
from ...core.seed_data import WorkspaceSeed, sample_workspace
from ...core.store import DEFAULT_WORKSPACE

SAMPLE = "sample"
NONE = "none"


class SeedDataError(ValueError):
    """A fixture file that cannot be read, parsed or loaded; the CLI exits 2 with this message."""


def startup_seed_data(setting: str, seed: int) -> list[WorkspaceSeed]:
    if setting == SAMPLE:
        return [sample_workspace(seed, DEFAULT_WORKSPACE)]
    if setting == NONE:
        return []
    return load_seed_file(Path(setting))


def load_seed_file(path: Path) -> list[WorkspaceSeed]:
    import yaml  # only fixture files need it: ~0.015 s off start-up

    from .seed_data import parse_seed_data  # the wire models, with pydantic's work building them

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedDataError(f"--fixtures {path}: cannot read it: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SeedDataError(f"--fixtures {path}: not valid YAML: {exc}") from exc
    try:
        return parse_seed_data(data)
    except ValidationFailed as exc:
        raise SeedDataError(f"--fixtures {path}: {describe(exc)}") from exc


def describe(exc: DomainError) -> str:
    """One line for a terminal: every field error of a ValidationFailed, else the message."""
    if isinstance(exc, ValidationFailed):
        return "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
    return str(exc)
