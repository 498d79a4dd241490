"""The askelephant-contract CLI and its reports (text and JUnit XML)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract_tests.cli import main
from contract_tests.inprocess import ThreadedServer
from contract_tests.report import CheckResult, Report
from contract_tests.signing import generate_secret
from tests.contract.receivers import HOOK_PATH, NAIVE, PROBE_PATH, Flaws, build_receiver


def _xml(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - parses the report this package wrote


@pytest.fixture
def receiver_factory() -> Iterator:
    servers: list[ThreadedServer] = []

    def start(flaws: Flaws) -> tuple[str, str, str]:
        secret = generate_secret()
        app, _ = build_receiver(secret, flaws)
        server = ThreadedServer(app).start()
        servers.append(server)
        return server.origin + HOOK_PATH, server.origin + PROBE_PATH, secret

    yield start
    for server in servers:
        server.stop()


def test_receiver_command_passes_a_correct_receiver(receiver_factory, tmp_path: Path, capsys) -> None:
    url, probe, secret = receiver_factory(Flaws())
    junit = tmp_path / "receiver.xml"
    code = main(["receiver", "--url", url, "--secret", secret, "--probe-url", probe, "--junit-xml", str(junit)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "OK:" in out
    suite = _xml(junit.read_text()).find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and int(suite.get("tests", "0")) >= 10


def test_receiver_command_fails_the_naive_receiver(receiver_factory, tmp_path: Path, capsys) -> None:
    url, probe, secret = receiver_factory(NAIVE)
    junit = tmp_path / "receiver.xml"
    code = main(["receiver", "--url", url, "--secret", secret, "--probe-url", probe, "--junit-xml", str(junit)])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  receiver     tampered_body_rejected" in out
    failed = {c.get("name") for c in _xml(junit.read_text()).iter("testcase") if c.find("failure") is not None}
    assert {"wrong_secret_rejected", "duplicate_accepted_and_processed_once"} <= failed


def test_receiver_command_needs_a_secret(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("ASKELEPHANT_WEBHOOK_SECRET", raising=False)
    assert main(["receiver", "--url", "http://127.0.0.1:9/x"]) == 2
    assert "--secret" in capsys.readouterr().err


def test_api_command_reports_an_unreachable_target(unused_tcp_port: int, capsys) -> None:
    assert main(["api", "--target-url", f"http://127.0.0.1:{unused_tcp_port}/api"]) == 2
    assert "cannot reach" in capsys.readouterr().err


def test_api_command_rejects_unknown_check_names(capsys) -> None:
    assert main(["api", "--target-url", "http://127.0.0.1:9/api", "--check", "no_such_check"]) == 2
    assert "no_such_check" in capsys.readouterr().err


def test_list_and_schema_commands(capsys) -> None:
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    assert "valid_create_then_replay" in listed and "tampered_body_rejected" in listed
    assert main(["schema", "openapi"]) == 0
    assert json.loads(capsys.readouterr().out)["openapi"].startswith("3.1")


def test_report_text_and_junit_carry_failures() -> None:
    report = Report("T", "http://x")
    report.results += [
        CheckResult("s", "good", "passed", 0.1),
        CheckResult("s", "bad", "failed", 0.2, "expected 201\ngot 200"),
        CheckResult("s", "odd", "error", 0.0, "boom"),
        CheckResult("s", "later", "skipped", 0.0, "needs admin"),
    ]
    assert not report.ok
    text = report.to_text()
    assert "FAILED: 1 passed, 1 failed, 1 errors, 1 skipped" in text and "got 200" in text
    suite = _xml(report.to_junit_xml()).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "4",
        "1",
        "1",
        "1",
    )
    bad = next(c for c in suite.iter("testcase") if c.get("name") == "bad")
    assert bad.find("failure").get("message") == "expected 201"  # type: ignore[union-attr]
