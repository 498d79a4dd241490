"""README.md stays true: its contents list, every command and flag it shows, every route and variable it names."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from benchmarks.run import build_parser as benchmarks_parser
from contract_tests.cli import _parser as contract_parser
from fake_askelephant.app import create_app
from fake_askelephant.cli import build_parser
from fake_askelephant.config import OPTIONS
from reference_client.cli import build_parser as refclient_parser
from tests.conftest import frozen_settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
METHODS = "GET|POST|PUT|PATCH|DELETE"
# Knobs of the test suite itself (tests/browser), not of the emulator.
TEST_ENV = {
    "FAKE_ASKELEPHANT_CHROMIUM",
    "FAKE_ASKELEPHANT_REQUIRE_BROWSER",
    "FAKE_ASKELEPHANT_PACKAGING_TESTS",
    "FAKE_ASKELEPHANT_DOCKER_BASE",
}


def code_lines() -> list[str]:
    """Lines of fenced code blocks, with backslash continuations joined."""
    lines: list[str] = []
    fenced = False
    for line in README.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            if lines and lines[-1].endswith("\\"):
                lines[-1] = lines[-1][:-1] + " " + line.strip()
            else:
                lines.append(line.strip())
    return lines


def headings() -> list[str]:
    found, fenced = [], False
    for line in README.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("## ") and line != "## Contents":
            found.append(line[3:])
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def test_contents_lists_every_section_in_order() -> None:
    contents = README.split("## Contents", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^- \[(.+)\]\(#(.+)\)$", contents, re.M)
    assert listed == [(h, slug(h)) for h in headings()]


def test_the_two_set_up_commands_come_first() -> None:
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    assert "pip install . && fake-askelephant serve" in setup
    assert 'pip install ".[dev]" && python -m pytest' in setup
    assert README.index("## Set up") < README.index("## Walk-through")


# Commands ---------------------------------------------------------------------------------------------

PROGRAMS: dict[str, argparse.ArgumentParser] = {
    "fake-askelephant": build_parser(),
    "python -m fake_askelephant": build_parser(),
    "askelephant-ref": refclient_parser(),
    "askelephant-contract": contract_parser(),
    "python -m benchmarks": benchmarks_parser(),
}
_PROGRAM = re.compile("(" + "|".join(re.escape(p) for p in PROGRAMS) + ")(?: |$)")


def commands() -> list[tuple[str, list[str]]]:
    """(program, argv) for every command in a code block or code span that starts with one of PROGRAMS.

    A command starts a line (a `# ` comment marker aside) or follows `&&`; `|`, `&`, `;`, a comment or a
    parenthesised remark ends it. Program output (the serve banner) and other tools' arguments that merely
    name the image (`docker build -t fake-askelephant .`) are not commands.
    """
    spans = re.findall(r"(?<!`)`([^`\n]+)`(?!`)", README)
    found = []
    for text in [*code_lines(), *spans]:
        for part in text.removeprefix("# ").split("&&"):
            m = _PROGRAM.match(part.strip())
            if m is None:
                continue
            rest = re.split(r"\s(?:\||&|;|#)(?:\s|$)", part.strip()[m.end() :] + " ", maxsplit=1)[0]
            argv = shlex.split(rest)
            argv = argv[: next((i for i, a in enumerate(argv) if a.startswith("(")), len(argv))]
            if argv and re.match(r"\d+\.\d+", argv[0]):  # `fake-askelephant 0.1.0: …` is the banner
                continue
            if argv or text not in spans:  # a bare `fake-askelephant` in prose names the CLI
                found.append((m.group(1), argv))
    return found


def test_readme_shows_commands_of_every_program() -> None:
    assert {program for program, _ in commands()} == set(PROGRAMS)


def option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Every option of the parser and its subcommands, spelt out (argparse would also take abbreviations)."""
    found: set[str] = set()
    for action in parser._actions:
        found.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= option_strings(sub)
    return found


@pytest.mark.parametrize(("program", "argv"), commands(), ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_every_command_parses(program: str, argv: list[str]) -> None:
    parser = PROGRAMS[program]
    try:
        parser.parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"`{program} {' '.join(argv)}` does not parse (exit {exc.code})")
    flags = {a.split("=", 1)[0] for a in argv if a.startswith("-")}
    assert flags <= option_strings(parser), f"`{program}` has no option {sorted(flags - option_strings(parser))}"


def test_configuration_table_is_the_serve_flags() -> None:
    table = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(--[a-z-]+)[^|]*\| `(FAKE_ASKELEPHANT_[A-Z_]+)` \|", table, re.M)
    assert rows == [(o.flag, "FAKE_ASKELEPHANT_" + o.flag[2:].upper().replace("-", "_")) for o in OPTIONS]


def test_every_environment_variable_named_is_an_option() -> None:
    named = set(re.findall(r"FAKE_ASKELEPHANT_[A-Z_]*[A-Z]", README))
    options = {"FAKE_ASKELEPHANT_" + o.flag[2:].upper().replace("-", "_") for o in OPTIONS}
    assert named - options - TEST_ENV == set()


# Routes -------------------------------------------------------------------------------------------------


def _paths(raw: str) -> list[str]:
    """A documented path → concrete request paths: optional `[/{x}]` both ways, placeholders filled in."""
    raw = raw.rstrip(".,:")
    raw = re.split(r"\[?\?", raw, maxsplit=1)[0]
    variants = [re.sub(r"\[(/[^\]]*)\]", r"\1", raw), re.sub(r"\[/[^\]]*\]", "", raw)]
    out = []
    for path in dict.fromkeys(variants):
        path = re.sub(r"\{[^}]+\}|<[^>]+>", "x1", path)
        out.append("/api" + path if path.startswith(("/v1/", "/v2/")) else path)
    return out


def prose() -> str:
    """The README without its fenced code blocks."""
    return re.sub(r"^\s*```.*?^\s*```", "", README, flags=re.S | re.M)


def routes() -> set[tuple[str, str]]:
    """(method, path) for every route the README names: in prose and tables, curl commands and links."""
    found: set[tuple[str, str]] = set()
    for line in README.replace("`", "").splitlines():
        last = ""  # `…/{id}` in a table cell continues the path named before it on that line
        for methods, raw in re.findall(rf"\b((?:(?:{METHODS})/)*(?:{METHODS})) ([/…][^\s,;)]*)", line):
            if raw.startswith("…"):
                raw = last + raw.removeprefix("…")
            elif raw.startswith("/"):
                last = re.split(r"[\[?]", raw, maxsplit=1)[0].rstrip(".,:")
            if not raw.startswith(("/__admin", "/v1/", "/v2/", "/api/")):
                continue
            for method in methods.split("/"):
                found.update((method, path) for path in _paths(raw))
    for line in code_lines():
        if not line.startswith("curl "):
            continue
        url = re.search(r"(?:https?://)?(?:127\.0\.0\.1|localhost):8787(/[^\s'\"]*)", line)
        assert url, line
        explicit = re.search(r"-X (\w+)", line)
        method = explicit.group(1) if explicit else ("POST" if " -d " in line else "GET")
        found.update((method, path) for path in _paths(url.group(1)))
    for path in re.findall(r"https?://(?:127\.0\.0\.1|localhost):8787(/__admin/[^\s`)'\"]*)", prose()):
        found.update(("GET", p) for p in _paths(path))  # a page to open
    return found


def test_readme_names_routes_of_every_family() -> None:
    prefixes = {path.split("/")[1] if not path.startswith("/api/") else path.split("/")[2] for _, path in routes()}
    assert {"__admin", "v1", "v2"} <= prefixes


async def missing(app: web.Application, wanted: set[tuple[str, str]]) -> list[str]:
    """The (method, path) pairs the app's router answers with 404 or 405."""
    out = []
    for method, path in sorted(wanted):
        match = await app.router.resolve(make_mocked_request(method, path, app=app))
        if match.http_exception is not None:
            out.append(f"{method} {path}: {match.http_exception.status}")
    return out


async def test_every_route_named_exists() -> None:
    app = create_app(frozen_settings())
    assert await missing(app, routes()) == []
    # The check can fail: an unknown path and a wrong method are reported.
    bogus = {("GET", "/__admin/no-such-route"), ("PATCH", "/__admin/clock/advance")}
    assert await missing(app, bogus) == ["GET /__admin/no-such-route: 404", "PATCH /__admin/clock/advance: 405"]


def test_linked_files_exist() -> None:
    links = re.findall(r"\]\((?!https?:|#)([^)#\s]+)", README)
    assert links
    assert [link for link in links if not (ROOT / link).exists()] == []


@pytest.mark.slow
def test_the_screenshot_script_prints_help_and_writes_nothing(tmp_path: Path) -> None:
    """`python -m scripts.inspector_screenshots --help` wrote PNGs into a new folder named `--help`."""
    result = subprocess.run(
        [sys.executable, "-m", "scripts.inspector_screenshots", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.startswith("usage: python -m scripts.inspector_screenshots")
        and "OUT_DIR" in result.stdout.upper()
    )
    assert list(tmp_path.iterdir()) == []
