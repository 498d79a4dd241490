"""Loading scenarios: every problem is reported with its file line, before anything runs."""

from __future__ import annotations

import pytest

from fake_askelephant.scenarios.loader import ScenarioError, load_text
from fake_askelephant.scenarios.model import human_duration, parse_duration


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_text(text, "s.yaml")
    return str(info.value).splitlines()


def test_a_minimal_scenario_loads_with_defaults() -> None:
    loaded = load_text("steps:\n  - advance: 5m\n", "s.yaml", default_name="tiny")
    scenario = loaded.scenario
    assert scenario.name == "tiny" and scenario.seed == 1 and scenario.clock.time_scale == 0
    assert scenario.steps[0].kind == "advance" and scenario.steps[0].advance == 300


def test_unknown_field_names_its_line_and_suggests_the_right_one() -> None:
    text = """name: x
steps:
  - name: submit
    request: {method: POST, path: /api/v2/engagements, body: {}}
    expect:
      statsu: 201
"""
    assert problems(text) == ["s.yaml:6: steps[0].expect.statsu: unknown field 'statsu'; did you mean 'status'?"]


def test_type_errors_point_at_the_value() -> None:
    text = "name: x\nseed: 1\nsteps:\n  - advance: soon\n  - expect_webhook: {count: many}\n"
    assert problems(text) == [
        "s.yaml:4: steps[0].advance: 'soon' is not a duration; write seconds (90) or units (45s, 5m, 1h30m, 2d)",
        "s.yaml:5: steps[1].expect_webhook.count: "
        "Input should be a valid integer, unable to parse string as an integer",
    ]


def test_missing_required_fields_name_the_field() -> None:
    assert problems("name: x\nsteps:\n  - request: {method: GET}\n") == [
        "s.yaml:3: steps[0].request.path: required field is missing"
    ]
    assert problems("name: x\n") == ["s.yaml:1: steps: required field is missing"]


def test_duplicate_keys_are_errors_not_silently_last_wins() -> None:
    text = "name: x\nsteps:\n  - request:\n      path: /a\n      path: /b\n"
    assert problems(text) == ["s.yaml:5: steps[0].request.path: duplicate key (first on line 4)"]


def test_merge_keys_may_override_without_being_duplicates() -> None:
    text = "name: x\nvars:\n  base: &b {a: 1, b: 2}\nsteps:\n  - request: {path: /x, body: {<<: *b, b: 3}}\n"
    loaded = load_text(text, "s.yaml")
    assert loaded.scenario.steps[0].request is not None
    assert loaded.scenario.steps[0].request.body == {"a": 1, "b": 3}


def test_one_action_per_step_but_expect_may_ride_along() -> None:
    text = (
        "name: x\nsteps:\n  - advance: 5\n    request: {path: /a}\n  - request: {path: /a}\n    expect: {status: 200}\n"
    )
    assert problems(text) == [
        "s.yaml:3: steps[0]: a step has one action, got request, advance (expect may accompany request or concurrent)"
    ]


def test_references_must_look_back_at_named_steps_or_roots() -> None:
    text = """name: x
keys:
  reader: {scopes: ["engagements:read"]}
steps:
  - request: {path: "/api/v2/engagements/${later.body.id}"}
  - name: later
    request: {path: /api/v2/engagements, key: writer}
  - request: {path: "/x/${keys.nobody}/${nothing.at.all}/${vars.missing}"}
  - request: {path: "/x/${later.body.id}/${keys.reader}/${keys.default}"}
"""
    assert problems(text) == [
        "s.yaml:5: steps[0].request.path: ${later.body.id}: 'later' is defined later; references look back only "
        "(roots: keys, endpoints, vars, scenario, target, clock)",
        "s.yaml:7: steps[1].request.key: unknown key 'writer' (known: default, reader)",
        "s.yaml:8: steps[2].request.path: ${keys.nobody}: keys has no 'nobody' (known: default, reader)",
        "s.yaml:8: steps[2].request.path: ${nothing.at.all}: 'nothing' is not a step name or root "
        "(roots: keys, endpoints, vars, scenario, target, clock)",
        "s.yaml:8: steps[2].request.path: ${vars.missing}: vars has no 'missing' (known: none)",
    ]


def test_expressions_and_schemas_are_checked_at_load_time() -> None:
    text = """name: x
steps:
  - request: {path: /a}
    expect:
      jsonpath:
        - {path: "$.data[?(", exists: true}
      schema: {type: nonsense}
"""
    found = problems(text)
    assert found[0].startswith("s.yaml:6: steps[0].expect.jsonpath[0].path: invalid JSONPath '$.data[?('")
    assert found[1].startswith("s.yaml:7: steps[0].expect.schema: not a valid JSON Schema: 'nonsense' is not valid")


def test_a_standalone_expect_needs_an_earlier_response() -> None:
    assert problems("name: x\nsteps:\n  - advance: 1\n  - expect: {status: 200}\n") == [
        "s.yaml:4: steps[1].expect: nothing to check yet: no earlier step produced a response"
    ]


def test_webhook_expectations_need_a_known_endpoint() -> None:
    base = "name: x\nendpoints:\n  a: {}\n  b: {url: 'https://hooks.example.com/x'}\nsteps:\n"
    assert problems(base + "  - expect_webhook: {type: v1.engagement.created}\n") == [
        "s.yaml:6: steps[0].expect_webhook.endpoint: endpoint is required: several endpoints are declared; name one"
    ]
    assert problems(base + "  - expect_webhook: {endpoint: c}\n") == [
        "s.yaml:6: steps[0].expect_webhook.endpoint: no endpoint named 'c' (declared: a, b)"
    ]
    assert problems(base + "  - expect_webhook: {endpoint: b, verified: true}\n") == [
        "s.yaml:6: steps[0].expect_webhook.verified: signature verification is observed only by built-in sink "
        "endpoints (no url)"
    ]


def test_settings_are_serve_flags_parsed_like_the_cli() -> None:
    text = "name: x\nsettings: {strict: true, seed: 3, colour: blue, time_scale: x}\nsteps:\n  - advance: 1\n"
    found = problems(text)
    assert found[0] == "s.yaml:2: settings.seed: seed is set by the scenario's own fields (seed, clock), not settings"
    assert found[1].startswith("s.yaml:2: settings.colour: unknown setting; known: ")
    assert (
        found[2]
        == "s.yaml:2: settings.time_scale: time_scale is set by the scenario's own fields (seed, clock), not settings"
    )


def test_invalid_yaml_and_non_mapping_documents() -> None:
    assert problems("steps: [\n")[0].startswith("s.yaml:2: not valid YAML")
    assert problems("- just\n- a list\n") == ["s.yaml:1: a scenario is a YAML mapping with at least `steps`"]


def test_key_names_are_unique_across_workspaces() -> None:
    text = """name: x
keys:
  a: {scopes: ["engagements:read"]}
workspaces:
  wrks_other:
    keys:
      a: {scopes: ["workspace:admin"]}
steps:
  - advance: 1
"""
    assert problems(text) == ["s.yaml:7: workspaces.wrks_other.keys.a: key name 'a' is already used"]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(90, 90.0), (1.5, 1.5), ("45s", 45.0), ("5m", 300.0), ("1h30m", 5400.0), ("27h35m5s", 99305.0), ("250ms", 0.25)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "5 minutes", "-5", True, "m5", ""])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_human_durations() -> None:
    assert [human_duration(ms) for ms in (0, 250, 5000, 305_000, 99_305_000, 86_400_000 + 1500)] == [
        "0s",
        "250ms",
        "5s",
        "5m 5s",
        "1d 3h 35m 5s",
        "1d 1.5s",
    ]
