"""Settings from env and flags (pipeline.md §8): flags win, one parser per option, clear errors."""

from __future__ import annotations

import argparse

import pytest

from fake_askelephant.cli import build_parser, main
from fake_askelephant.config import ConfigError, Settings, load_settings


def parse(argv: list[str], env: dict[str, str] | None = None) -> Settings:
    args = build_parser().parse_args(["serve", *argv])
    return load_settings(args, env or {})


def test_defaults() -> None:
    s = parse([])
    assert (s.host, s.port, s.api_keys, s.seed, s.strict, s.time_scale) == (
        "127.0.0.1",
        8787,
        ("sk-apik_local.fakeaskelephant",),
        None,
        False,
        1.0,
    )


def test_env_then_flags() -> None:
    env = {
        "FAKE_ASKELEPHANT_PORT": "9000",
        "FAKE_ASKELEPHANT_SEED": "5",
        "FAKE_ASKELEPHANT_STRICT": "true",
        "FAKE_ASKELEPHANT_API_KEY": "sk-apik_a.b, sk-apik_c.d",
        "FAKE_ASKELEPHANT_TIME_SCALE": "0",
    }
    s = parse([], env)
    assert (s.port, s.seed, s.strict, s.api_keys, s.time_scale) == (9000, 5, True, ("sk-apik_a.b", "sk-apik_c.d"), 0.0)
    s = parse(["--port", "9100", "--api-key", "sk-apik_x.y", "--api-key", "sk-apik_z.w"], env)
    assert s.port == 9100 and s.api_keys == ("sk-apik_x.y", "sk-apik_z.w")


def test_false_strings_are_false() -> None:
    assert parse([], {"FAKE_ASKELEPHANT_STRICT": "false"}).strict is False
    assert parse([], {"FAKE_ASKELEPHANT_STRICT": "0"}).strict is False


@pytest.mark.parametrize(
    ("argv", "env", "needle"),
    [
        (["--api-key", "Bearer nope"], {}, "--api-key"),
        (["--time-scale", "-1"], {}, "--time-scale"),
        ([], {"FAKE_ASKELEPHANT_PORT": "http"}, "FAKE_ASKELEPHANT_PORT"),
        ([], {"FAKE_ASKELEPHANT_STRICT": "maybe"}, "FAKE_ASKELEPHANT_STRICT"),
        (["--log-level", "loud"], {}, "--log-level"),
        (["--start-time", "2026-01-01"], {}, "--start-time"),
    ],
)
def test_bad_values_name_their_source(argv: list[str], env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse(argv, env)


def test_every_flag_has_an_env_var_in_help() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text = sub.choices["serve"].format_help()
    for flag in ("host", "port", "api-key", "seed", "strict", "time-scale", "log-level"):
        assert f"--{flag}" in text
        assert "FAKE_ASKELEPHANT_" + flag.upper().replace("-", "_") in text.replace("\n", "").replace(" ", "")


def test_health_takes_only_the_flags_it_uses() -> None:
    """`health --help` listed all sixteen serve flags (seed, fixtures, webhooks…), none of which it reads."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    health = sub.choices["health"]
    flags = {s for a in health._actions for s in a.option_strings}
    assert flags == {"-h", "--help", "--url", "--timeout", "--host", "--port"}
    assert "--seed" not in health.format_help()


def test_health_ignores_the_environment_of_flags_it_does_not_take(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A container's env for serve (say a fixtures file that is not there yet) must not break its HEALTHCHECK."""
    monkeypatch.setenv("FAKE_ASKELEPHANT_FIXTURES", "/nowhere/fixtures.yaml")
    monkeypatch.setenv("FAKE_ASKELEPHANT_PORT", "9")
    assert main(["health", "--timeout", "2"]) == 1  # nothing listens on port 9: unhealthy, not a usage error (2)
    assert "http://127.0.0.1:9/__admin/health" in capsys.readouterr().err
