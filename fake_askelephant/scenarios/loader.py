"""Load scenario YAML: parse, validate with the model, check references; every error names its line."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..config import OPTIONS
from ..core.records import dataclass
from . import refs
from .matching import check_schema, compile_jsonpath
from .model import BUILTIN_ROOTS, DEFAULT_KEY_NAME, ExpectSpec, ExpectWebhookSpec, Scenario, Spec

# The repository's top-level scenarios/ folder, shipped inside the wheel as this package (setup.py maps it), so an
# installed distribution adds no top-level `scenarios` package that could shadow a vendor's own.
LIBRARY_PACKAGE = "fake_askelephant.scenarios.library"
BUILTIN_PREFIX = "builtin:"
# Flags a scenario sets through its own fields, never through `settings`.
_RESERVED_SETTINGS = {"seed", "time-scale", "start-time", "host", "port", "log-level", "record"}
_STEPS_WITH_RESPONSE = ("request", "concurrent", "wait_for", "pipeline")

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Issue:
    line: int | None
    where: str
    message: str

    def render(self, source: str) -> str:
        location = f"{source}:{self.line}" if self.line else source
        return f"{location}: {self.where}: {self.message}" if self.where else f"{location}: {self.message}"


class ScenarioError(Exception):
    """A scenario file that cannot run; `str()` lists every problem as `file:line: where: what`."""

    def __init__(self, source: str, issues: list[Issue]) -> None:
        self.source = source
        self.issues = issues
        super().__init__("\n".join(i.render(source) for i in issues))


@dataclass
class LineMap:
    """Where each YAML node starts, by its path in the document."""

    lines: dict[Path_, int] = field(default_factory=dict)
    kinds: dict[Path_, str] = field(default_factory=dict)

    def line(self, path: Path_) -> int | None:
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def resolve(self, loc: tuple[Any, ...]) -> Path_:
        """Follow a pydantic error location through the document, skipping union tags it adds."""
        path: Path_ = ()
        for part in loc:
            kind = self.kinds.get(path)
            step: str | int = part if kind == "seq" and isinstance(part, int) else str(part)
            if (*path, step) in self.lines:
                path = (*path, step)
        return path


def _walk(node: yaml.Node, path: Path_, out: LineMap, issues: list[Issue]) -> None:
    out.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out.kinds[path] = "map"
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                issues.append(Issue(line, render_path((*path, key)), f"duplicate key (first on line {seen[key]})"))
            seen[key] = line
            _walk(value_node, (*path, key), out, issues)
    elif isinstance(node, yaml.SequenceNode):
        out.kinds[path] = "seq"
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), out, issues)


def render_path(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@dataclass(frozen=True)
class LoadedScenario:
    scenario: Scenario
    source: str
    text: str
    lines: LineMap

    @property
    def name(self) -> str:
        return self.scenario.name

    def line_of(self, *path: str | int) -> int | None:
        return self.lines.line(path)


def _known_fields() -> list[str]:
    names: set[str] = set()
    pending: list[type[BaseModel]] = [Spec]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        for name, info in cls.model_fields.items():
            names.add(info.alias or name)
    return sorted(names)


def _pydantic_issues(exc: ValidationError, lines: LineMap) -> list[Issue]:
    issues: list[Issue] = []
    seen: set[str] = set()
    for err in exc.errors(include_url=False):
        path = lines.resolve(err["loc"])
        where = render_path(path)
        kind = err["type"]
        if kind == "missing":
            where = render_path((*path, str(err["loc"][-1])))
            message = "required field is missing"
        elif kind == "extra_forbidden":
            unknown = str(err["loc"][-1])
            close = difflib.get_close_matches(unknown, _known_fields(), n=1)
            message = f"unknown field {unknown!r}" + (f"; did you mean {close[0]!r}?" if close else "")
        else:
            message = err["msg"].removeprefix("Value error, ")
        if where in seen:
            continue  # a union reports each branch; the first reason is enough
        seen.add(where)
        issues.append(Issue(lines.line(path), where, message))
    return issues


# libyaml when PyYAML was built with it: the pure-Python parser is most of a load's time.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_yaml(text: str, lines: LineMap, issues: list[Issue]) -> Any:
    """One parse for both the line map and the data; the walk goes first (construction flattens `<<:`)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _walk(node, (), lines, issues)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_text(text: str, source: str, *, default_name: str | None = None) -> LoadedScenario:
    """Parse and validate one scenario; raises ScenarioError listing every problem found."""
    lines = LineMap()
    issues: list[Issue] = []
    try:
        data = _parse_yaml(text, lines, issues)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or exc
        raise ScenarioError(source, [Issue(line, "", f"not valid YAML: {problem}")]) from exc
    if not isinstance(data, dict):
        raise ScenarioError(source, [Issue(1, "", "a scenario is a YAML mapping with at least `steps`")])
    if "name" not in data and default_name:
        data = {"name": default_name, **data}
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, issues + _pydantic_issues(exc, lines)) from exc
    issues.extend(Issue(lines.line(path), render_path(path), message) for path, message in check(scenario, data))
    if issues:
        raise ScenarioError(source, issues)
    return LoadedScenario(scenario, source, text, lines)


def load_file(path: str | Path) -> LoadedScenario:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), [Issue(None, "", f"cannot read: {exc.strerror or exc}")]) from exc
    return load_text(text, str(path), default_name=p.stem.replace("_", "-"))


# Cross-field checks -------------------------------------------------------------------------------


def check(scenario: Scenario, data: dict[str, Any]) -> Iterator[tuple[Path_, str]]:
    """What one model cannot see: references, names across sections, expressions, settings."""
    yield from _check_keys(scenario)
    yield from _check_settings(scenario)
    key_names = {DEFAULT_KEY_NAME, *scenario.all_keys()}
    defined: set[str] = set()
    has_response = False
    for i, step in enumerate(scenario.steps):
        raw_step = data["steps"][i]
        base: Path_ = ("steps", i)
        for sub, expr in refs.find_references(raw_step):
            # An expect riding along with a request may look at that request's own response.
            visible = defined | {step.name} if sub[:1] == ("expect",) and step.name else defined
            yield from _check_reference((*base, *sub), expr, visible, scenario, key_names)
        for sub, request in _requests(step):
            if request.key is not None and "${" not in request.key and request.key not in key_names:
                yield (*base, *sub, "key"), f"unknown key {request.key!r} (known: {', '.join(sorted(key_names))})"
        for sub, expect in _expects(step):
            yield from _check_expect((*base, *sub), expect)
        if step.expect_webhook is not None:
            yield from _check_webhook((*base, "expect_webhook"), step.expect_webhook, scenario)
        if step.kind == "expect" and not has_response:
            yield (*base, "expect"), "nothing to check yet: no earlier step produced a response"
        has_response = has_response or step.kind in _STEPS_WITH_RESPONSE
        if step.name is not None:
            if step.name in defined:
                yield (*base, "name"), f"step name {step.name!r} is used twice"
            defined.add(step.name)


def _check_keys(scenario: Scenario) -> Iterator[tuple[Path_, str]]:
    seen = set(scenario.keys)
    if DEFAULT_KEY_NAME in seen:
        yield ("keys", DEFAULT_KEY_NAME), "`default` is the emulator's default key; pick another name"
    for workspace_id, ws in scenario.workspaces.items():
        for name in ws.keys:
            if name in seen or name == DEFAULT_KEY_NAME:
                yield ("workspaces", workspace_id, "keys", name), f"key name {name!r} is already used"
            seen.add(name)


def _check_settings(scenario: Scenario) -> Iterator[tuple[Path_, str]]:
    flags = {opt.flag.lstrip("-"): opt for opt in OPTIONS}
    for name, value in scenario.settings.items():
        flag = name.replace("_", "-")
        if flag in _RESERVED_SETTINGS:
            yield ("settings", name), f"{name} is set by the scenario's own fields (seed, clock), not settings"
        elif flag not in flags:
            yield ("settings", name), f"unknown setting; known: {', '.join(sorted(set(flags) - _RESERVED_SETTINGS))}"
        else:
            text = str(value).lower() if isinstance(value, bool) else str(value)
            try:
                flags[flag].parse(text)
            except ValueError as exc:
                yield ("settings", name), str(exc)


def _check_reference(
    path: Path_, expr: str, defined: set[str], scenario: Scenario, key_names: set[str]
) -> Iterator[tuple[Path_, str]]:
    try:
        parts = refs.split(expr)
    except refs.UnresolvedReference as exc:
        yield path, str(exc)
        return
    root = parts[0]
    sections = {"keys": key_names, "endpoints": set(scenario.endpoints), "vars": set(scenario.vars)}
    if root in sections:
        if len(parts) < 2 or parts[1] not in sections[root]:
            known = ", ".join(sorted(sections[root])) or "none"
            wanted = repr(parts[1]) if len(parts) > 1 else "(no name given)"
            yield path, f"${{{expr}}}: {root} has no {wanted} (known: {known})"
    elif root not in BUILTIN_ROOTS and root not in defined:
        later = any(s.name == root for s in scenario.steps)
        reason = "is defined later; references look back only" if later else "is not a step name or root"
        yield path, f"${{{expr}}}: {root!r} {reason} (roots: {', '.join(BUILTIN_ROOTS)})"


def _requests(step: Any) -> Iterator[tuple[Path_, Any]]:
    if step.request is not None:
        yield ("request",), step.request
    if step.concurrent is not None:
        if step.concurrent.request is not None:
            yield ("concurrent", "request"), step.concurrent.request
        for j, request in enumerate(step.concurrent.requests or []):
            yield ("concurrent", "requests", j), request
    if step.wait_for is not None:
        yield ("wait_for", "request"), step.wait_for.request


def _expects(step: Any) -> Iterator[tuple[Path_, ExpectSpec]]:
    if step.expect is not None:
        yield ("expect",), step.expect
    if step.wait_for is not None:
        yield ("wait_for", "until"), step.wait_for.until


def _check_expect(path: Path_, expect: ExpectSpec | ExpectWebhookSpec) -> Iterator[tuple[Path_, str]]:
    for j, jp in enumerate(expect.jsonpath):
        try:
            compile_jsonpath(jp.path)
        except ValueError as exc:
            yield (*path, "jsonpath", j, "path"), str(exc)
    if expect.schema_ is not None and (reason := check_schema(expect.schema_)) is not None:
        yield (*path, "schema"), f"not a valid JSON Schema: {reason}"
    for j, expression in enumerate(getattr(expect, "same", None) or []):
        try:
            compile_jsonpath(expression)
        except ValueError as exc:
            yield (*path, "same", j), str(exc)


def _check_webhook(path: Path_, spec: ExpectWebhookSpec, scenario: Scenario) -> Iterator[tuple[Path_, str]]:
    yield from _check_expect(path, spec)
    names = list(scenario.endpoints)
    if spec.endpoint is None and len(names) != 1:
        reason = "no endpoints are declared" if not names else "several endpoints are declared; name one"
        yield (*path, "endpoint"), f"endpoint is required: {reason}"
        return
    name = spec.endpoint if spec.endpoint is not None else names[0]
    declared = scenario.endpoints.get(name)
    if declared is None and "${" not in name:
        yield (*path, "endpoint"), f"no endpoint named {name!r} (declared: {', '.join(names) or 'none'})"
    if declared is not None and declared.url is not None and spec.verified is not None:
        yield (*path, "verified"), "signature verification is observed only by built-in sink endpoints (no url)"


# The built-in library -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryEntry:
    name: str
    filename: str
    description: str


def _library_root() -> Traversable:
    try:
        return resources.files(LIBRARY_PACKAGE)
    except ModuleNotFoundError:
        # Run from a source checkout that was not installed (tests, `python -m fake_askelephant` in the repo).
        return Path(__file__).resolve().parents[2] / "scenarios"


def _library_files() -> list[Traversable]:
    root = _library_root()
    return sorted((f for f in root.iterdir() if f.name.endswith((".yaml", ".yml"))), key=lambda f: f.name)


def library() -> list[LibraryEntry]:
    """The built-in scenarios (the repository's scenarios/ folder, shipped in the package), by file name."""
    out = []
    for f in _library_files():
        loaded = load_builtin_file(f)
        out.append(LibraryEntry(loaded.name, f.name, loaded.scenario.description.strip()))
    return out


def load_builtin_file(f: Traversable) -> LoadedScenario:
    stem = f.name.rsplit(".", 1)[0]
    return load_text(f.read_text(encoding="utf-8"), f"{BUILTIN_PREFIX}{f.name}", default_name=stem.replace("_", "-"))


def find_builtin(name: str) -> Traversable | None:
    """By scenario name (`late-insights`) or file stem (`late_insights`)."""
    wanted = name.removesuffix(".yaml").replace("_", "-")
    for f in _library_files():
        stem = f.name.rsplit(".", 1)[0]
        if stem.replace("_", "-") == wanted:
            return f
    for f in _library_files():
        if load_builtin_file(f).name == name:
            return f
    return None


def load_source(arg: str) -> LoadedScenario:
    """A file path, or the name of a built-in scenario (``happy-path``; ``builtin:happy-path`` never reads a file)."""
    explicit = arg.startswith(BUILTIN_PREFIX)
    if not explicit and Path(arg).exists():
        return load_file(arg)
    builtin = find_builtin(arg.removeprefix(BUILTIN_PREFIX))
    if builtin is None:
        names = ", ".join(e.name for e in library())
        raise ScenarioError(arg, [Issue(None, "", f"no such file or built-in scenario (built-ins: {names})")])
    return load_builtin_file(builtin)
