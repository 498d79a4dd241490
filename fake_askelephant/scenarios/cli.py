"""`fake-askelephant scenario run|list|show` (docs/scenarios.md).

The runner's modules load when a scenario command runs, not when the CLI parser is built: `fake-askelephant
health` shares the parser and must stay light (tests/reliability/test_container.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.store import DEFAULT_API_KEY

if TYPE_CHECKING:
    from .loader import LoadedScenario
    from .results import ScenarioResult

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scenario = commands.add_parser(
        "scenario",
        help="run, list or show replayable scenarios",
        description="Scripted dialer stories on the virtual clock: run files, or the built-in library.",
    )
    actions = scenario.add_subparsers(dest="scenario_command", required=True, metavar="ACTION")
    run = actions.add_parser(
        "run",
        help="run scenario files (or built-in names); exit 1 if any fails",
        description="Each scenario runs in a fresh in-process emulator (its own seed and clock) unless "
        "--target-url points at a running one, which is reset first.",
    )
    run.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="scenario YAML files or built-in scenario names (`happy-path`, or `builtin:happy-path` to never read a "
        "file of that name)",
    )
    run.add_argument("--builtin", action="store_true", help="run every built-in scenario (see `scenario list`)")
    run.add_argument(
        "--target-url",
        metavar="URL",
        help="run against this emulator: its root (http://127.0.0.1:8787) or its API base (…/api)",
    )
    run.add_argument(
        "--api-key", default=DEFAULT_API_KEY, metavar="KEY", help="the target's admin key (`key: default`)"
    )
    run.add_argument("--junit", metavar="PATH", help="also write a JUnit XML report")
    run.add_argument("--json", metavar="PATH", help="also write a JSON report")
    run.add_argument(
        "--transcript-dir",
        metavar="DIR",
        help="write each run's byte transcript (determinism checks) to DIR/NAME.jsonl",
    )
    run.add_argument("-v", "--verbose", action="store_true", help="show polls, webhooks and events for passing runs")
    actions.add_parser("list", help="list the built-in scenarios")
    show = actions.add_parser("show", help="print a built-in scenario's YAML")
    show.add_argument("name", metavar="NAME")


def main(args: argparse.Namespace) -> int:
    if args.scenario_command == "list":
        return _list()
    if args.scenario_command == "show":
        return _show(args.name)
    return _run(args)


def _list() -> int:
    from .loader import library

    entries = library()
    width = max(len(e.name) for e in entries)
    for e in entries:
        print(f"{e.name:<{width}}  {_first_sentence(e.description)}")
    return EXIT_OK


def _first_sentence(text: str, limit: int = 110) -> str:
    flat = " ".join(text.split())
    sentence = flat.split(". ", 1)[0].rstrip(".")
    return sentence if len(sentence) <= limit else sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def _show(name: str) -> int:
    from .loader import find_builtin, library

    found = find_builtin(name)
    if found is None:
        names = ", ".join(e.name for e in library())
        print(f"no built-in scenario {name!r}; built-ins: {names}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(found.read_text(encoding="utf-8"))
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from . import report
    from .loader import ScenarioError, load_source

    sources = list(args.files)
    if args.builtin:
        from .loader import BUILTIN_PREFIX, library

        sources += [BUILTIN_PREFIX + entry.name for entry in library()]
    if not sources:
        print("scenario run: name scenario files or built-in names, or pass --builtin", file=sys.stderr)
        return EXIT_USAGE
    loaded: list[LoadedScenario] = []
    problems = []
    for arg in sources:
        try:
            loaded.append(load_source(arg))
        except ScenarioError as exc:
            problems.append(str(exc))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return EXIT_USAGE
    if args.target_url:
        from .target import unusable

        problem = asyncio.run(unusable(args.target_url))
        if problem:
            print(f"scenario run: {problem}", file=sys.stderr)
            return EXIT_USAGE
    results = asyncio.run(_run_all(loaded, args))
    print(report.summary_text(results))
    if args.junit:
        Path(args.junit).write_bytes(report.to_junit(results))
    if args.json:
        Path(args.json).write_bytes(report.to_json(results))
    if args.transcript_dir:
        out = Path(args.transcript_dir)
        out.mkdir(parents=True, exist_ok=True)
        for result in results:
            (out / f"{result.name}.jsonl").write_bytes(result.transcript_bytes())
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


async def _run_all(loaded: list[LoadedScenario], args: argparse.Namespace) -> list[ScenarioResult]:
    """One after another, printing each report as it finishes."""
    from . import report
    from .runner import run_scenario

    results = []
    for item in loaded:
        result = await run_scenario(item, target_url=args.target_url, api_key=args.api_key)
        results.append(result)
        print(report.scenario_text(result, verbose=args.verbose) + "\n", flush=True)
    return results
