"""Import rules that keep the layout honest, read from the source (every import, lazy or TYPE_CHECKING ones too).

- core/ depends on nothing outside itself: the standard library, plus orjson and idna (fake_askelephant/core
  docstring says why), never the edges (api, webhooks, persistence, scenarios, inspector) nor aiohttp or pydantic.
- The emulator never imports its judge or the client it is tested with (contract_tests, reference_client), and
  those two never import the emulator, except the contract plugin starting it in-process when asked to.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = "fake_askelephant/core"
CORE_THIRD_PARTY = frozenset({"orjson", "idna"})
EDGES = ("api", "webhooks", "persistence", "scenarios", "inspector")
# (file, imported package): the contract plugin's `fake_askelephant_server` fixture starts the emulator in-process.
ALLOWED_CROSSINGS = frozenset({(Path("contract_tests/plugin.py"), "fake_askelephant")})


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import statement in `source`, relative ones resolved."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            if node.module:
                yield node.lineno, name
            else:  # `from .. import x` imports the submodule x
                yield from ((node.lineno, f"{name}.{alias.name}") for alias in node.names)


def imports_of(package: str) -> Iterator[tuple[Path, int, str]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, name in imported(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py"):
            yield path.relative_to(ROOT), line, name


def core_violation(name: str) -> str | None:
    """Why `core` may not import `name`, or None when it may."""
    top = name.split(".")[0]
    if name == "fake_askelephant.core" or name.startswith("fake_askelephant.core."):
        return None
    if top == "fake_askelephant":
        part = name.split(".")[1] if "." in name else ""
        return f"the {part} edge" if part in EDGES else "the emulator around it (it imports core, never the reverse)"
    if top in sys.stdlib_module_names or top in CORE_THIRD_PARTY:
        return None
    return "a third-party package outside the core's allowance"


def crossing(name: str, forbidden: tuple[str, ...]) -> str | None:
    top = name.split(".")[0]
    return top if top in forbidden else None


def test_core_imports_only_itself_the_standard_library_and_its_allowances() -> None:
    found = [
        (p, line, name, why) for p, line, name in imports_of("fake_askelephant/core") if (why := core_violation(name))
    ]
    assert not found, "\n".join(f"{p}:{line} imports {name}: {why}" for p, line, name, why in found)


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("fake_askelephant", ("contract_tests", "reference_client")),
        ("contract_tests", ("fake_askelephant", "reference_client")),
        ("reference_client", ("fake_askelephant", "contract_tests")),
        ("wire_schemas", ("fake_askelephant", "contract_tests", "reference_client")),
    ],
)
def test_packages_stay_apart(package: str, forbidden: tuple[str, ...]) -> None:
    found = [
        (p, line, name)
        for p, line, name in imports_of(package)
        if (top := crossing(name, forbidden)) and (p, top) not in ALLOWED_CROSSINGS
    ]
    assert not found, "\n".join(f"{p}:{line} imports {name}" for p, line, name in found)


# The checker itself: each planted import must be caught (and resolved as Python would resolve it).
@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("from ..api.problems import Problem", "fake_askelephant.core.views", "fake_askelephant.api.problems"),
        ("from .. import webhooks", "fake_askelephant.core.events", "fake_askelephant.webhooks"),
        ("def f():\n    from ..persistence import state", "fake_askelephant.core.x", "fake_askelephant.persistence"),
        ("if TYPE_CHECKING:\n    import aiohttp", "fake_askelephant.core.x", "aiohttp"),
        ("from pydantic import BaseModel", "fake_askelephant.core.x", "pydantic"),
    ],
)
def test_the_checker_catches_a_planted_import(source: str, module: str, expected: str) -> None:
    names = [name for _, name in imported(source, module, is_package=False)]
    assert expected in names
    assert any(core_violation(n) for n in names)


def test_the_checker_resolves_relative_imports_in_a_package_init() -> None:
    names = [name for _, name in imported("from .clock import VirtualClock", "fake_askelephant.core", True)]
    assert names == ["fake_askelephant.core.clock"]
    assert core_violation(names[0]) is None


# Test hygiene -----------------------------------------------------------------------------------------------


def test_an_unmarked_test_may_not_start_a_process() -> None:
    """tests/conftest.py keeps `pytest -m "not slow"` free of processes: this test is not marked slow."""
    import subprocess

    with pytest.raises(AssertionError, match=r"mark it @pytest.mark.slow"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)
