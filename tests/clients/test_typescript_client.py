"""openapi-typescript types the served document, `tsc --strict` compiles an openapi-fetch client written against those
types (and refuses a misspelled create body), and the dialer flow runs under Node; docs/quickstart-node.md runs as
written. All of the suite's Node work is here.

The npm packages come from clients/ts/package.json and its lockfile, installed once by `.ci/run` (`npm ci --prefix
clients/ts`); nothing is downloaded here. Without them (or without Node) these tests skip, unless
FAKE_ASKELEPHANT_REQUIRE_NODE is set (`.ci/run` sets it after `npm ci`), which turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.cli_process import ROOT, base_env
from tests.conftest import OnAThread
from tests.docs import quickstarts

pytestmark = pytest.mark.slow  # node, tsc and a real `fake-askelephant serve`

PROJECT = ROOT / "clients" / "ts"
REQUIRE = "FAKE_ASKELEPHANT_REQUIRE_NODE"
MIN_NODE = 20


def node_modules() -> Path:
    """clients/ts/node_modules as `npm ci` left it, with the versions package.json pins."""
    node = shutil.which("node")
    why = None
    if node is None:
        why = "Node.js is not installed"
    else:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
        if int(version.lstrip("v").split(".")[0]) < MIN_NODE:
            why = f"Node.js {version.strip()} is older than {MIN_NODE}"
    modules = PROJECT / "node_modules"
    if why is None and not (modules / ".package-lock.json").exists():
        why = "the npm packages are not installed: npm ci --prefix clients/ts"
    if why is not None:
        if os.environ.get(REQUIRE):
            pytest.fail(f"{why} ({REQUIRE} is set)")
        pytest.skip(why)
    manifest = json.loads((PROJECT / "package.json").read_text())
    pins = {**manifest["dependencies"], **manifest["devDependencies"]}
    for name, pin in pins.items():
        installed = json.loads((modules / name / "package.json").read_text())["version"]
        assert installed == pin, f"{name} {installed} installed, package.json pins {pin}: npm ci --prefix clients/ts"
    return modules


def node(*args: str | Path, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    command = [shutil.which("node") or "node", *map(str, args)]
    env = {**base_env(), "NO_COLOR": "1", "npm_config_offline": "true"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def tsc(project: Path, config: str) -> subprocess.CompletedProcess[str]:
    return node(project / "node_modules/typescript/bin/tsc", "--strict", "-p", config, cwd=project)


# The generated client -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of clients/ts (sources, tsconfig) with its node_modules linked in: suites on other interpreters
    run side by side, so nothing is generated inside the checkout."""
    modules = node_modules()
    work = tmp_path_factory.mktemp("ts") / "project"
    shutil.copytree(PROJECT, work, ignore=shutil.ignore_patterns("node_modules", "out", "askelephant.ts"))
    (work / "node_modules").symlink_to(modules, target_is_directory=True)
    return work


@pytest.fixture(scope="module")
def generated(project: Path, emulator: OnAThread) -> str:
    """openapi-typescript reads the document from the running emulator, as a vendor's build would."""
    result = node(
        project / "node_modules/openapi-typescript/bin/cli.js",
        f"{emulator.origin}/__admin/openapi.json",
        "-o",
        "src/askelephant.ts",
        cwd=project,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "openapi-typescript 7." in output
    assert not re.search(r"warn|⚠|error", output, re.I), output
    return (project / "src/askelephant.ts").read_text()


@pytest.fixture(scope="module")
def compiled(project: Path, generated: str) -> Path:
    result = tsc(project, "tsconfig.json")
    assert result.returncode == 0, result.stdout + result.stderr
    return project / "out"


def operation_ids(document: dict[str, Any]) -> list[str]:
    return [
        op["operationId"]
        for item in document["paths"].values()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_every_operation_and_webhook_is_typed(generated: str, served_document: Path) -> None:
    document = json.loads(served_document.read_text())
    operations = generated.split("export interface operations {", 1)[1]
    typed = set(re.findall(r"^ {4}(\w+): \{$", operations, re.M))
    hooks = {op["operationId"] for item in document["webhooks"].values() for op in item.values()}
    assert typed == set(operation_ids(document)) | hooks, typed ^ (set(operation_ids(document)) | hooks)
    webhooks = generated.split("export interface webhooks {", 1)[1].split("\n}\n", 1)[0]
    assert set(re.findall(r'^ {4}"([\w.]+)": \{$', webhooks, re.M)) == set(document["webhooks"])


def test_the_client_compiles_under_strict_and_its_types_are_not_unknown(compiled: Path) -> None:
    """src/typed.ts holds the list items, the create body, participants and user.emails to the document's schemas
    exactly (neither `unknown` nor `any`); src/flow.ts reads their fields. Compiling is the assertion."""
    assert {p.name for p in compiled.iterdir()} >= {"flow.js", "typed.js"}


def test_a_misspelled_create_body_does_not_compile(project: Path, generated: str) -> None:
    result = tsc(project, "negative/tsconfig.json")
    errors = re.findall(r"^(\S+)\((\d+),\d+\): error (TS\d+): (.*)$", result.stdout, re.M)
    assert result.returncode != 0 and len(errors) == 1, result.stdout + result.stderr
    ((path, line, code, message),) = errors
    assert path == "negative/misspelled_create.ts" and code == "TS2561", message
    assert "'extrnal_id' does not exist" in message and "Did you mean to write 'external_id'?" in message
    source = (project / path).read_text().splitlines()
    assert source[int(line) - 1].strip().startswith("extrnal_id:")


def test_the_dialer_flow_under_node(compiled: Path, emulator: OnAThread, served_document: Path, tmp_path: Path) -> None:
    out = tmp_path / "responses.json"
    result = node(compiled / "flow.js", emulator.origin, out, cwd=compiled.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    recorded: list[dict[str, Any]] = json.loads(out.read_text())
    assert [(r["operation"], r["status"]) for r in recorded] == FLOW

    # Types vanish at run time: hold each parsed body to the schema the document declares for its status.
    document = json.loads(served_document.read_text())
    registry: Registry[Any] = Registry().with_resource("urn:doc", DRAFT202012.create_resource(document))
    by_id = {op["operationId"]: op for item in document["paths"].values() for op in item.values() if "responses" in op}
    for r in recorded:
        declared = by_id[r["operation"]]["responses"][str(r["status"])]["content"]
        media = r["content_type"].split(";")[0]
        schema = {"$ref": "urn:doc" + declared[media]["schema"]["$ref"]}
        errors = list(Draft202012Validator(schema, registry=registry).iter_errors(r["body"]))
        assert not errors, f"{r['operation']} {r['status']}: {errors[0].message}"


FLOW = [
    ("create_engagement", 201),
    ("create_engagement", 200),
    ("get_engagement", 200),
    ("get_transcript_timeline", 200),
    *[("create_engagement", 201)] * 3,
    *[("list_engagements", 200)] * 4,
    ("create_engagement", 422),
    ("get_engagement", 404),
    ("list_contacts", 200),
    ("list_companies", 200),
    ("list_users", 200),
    ("list_tags", 200),
    ("create_tag", 201),
    ("replace_engagement_tags", 200),
]


# The Node quick start -------------------------------------------------------------------------------------


def package_and_version(spec: str) -> tuple[str, str]:
    """`svix@1` → (svix, 1); `@types/node@20` → (@types/node, 20); `typescript` → (typescript, "")."""
    at = spec.rfind("@")
    return (spec[:at], spec[at + 1 :]) if at > 0 else (spec, "")


def test_node_quickstart_runs_as_written(tmp_path: Path) -> None:
    modules = node_modules()
    quick = quickstarts.parse(ROOT / "docs" / "quickstart-node.md")
    # Its `npm install` lines name what clients/ts pins, at majors those pins satisfy.
    manifest = json.loads((PROJECT / "package.json").read_text())
    pins = {**manifest["dependencies"], **manifest["devDependencies"]}
    commands = [line.split("#", 1)[0].split()[2:] for line in quick.installs]
    named = [word for words in commands for word in words if not word.startswith("-")]
    majors = dict(package_and_version(spec) for spec in named)
    assert set(majors) == set(pins)
    assert all(not major or pins[name].split(".")[0] == major for name, major in majors.items()), (majors, pins)

    served = quickstarts.serve(quick, tmp_path)
    try:
        script = quick.script(served.base.removeprefix("http://"), install=f"ln -sfn '{modules}' node_modules")
        env = {**base_env(), "NO_COLOR": "1", "npm_config_offline": "true", "npm_config_update_notifier": "false"}
        result = quickstarts.run(script, tmp_path, env)
    finally:
        served.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    quickstarts.assert_prints_what_the_page_shows(quick, result.stdout)
