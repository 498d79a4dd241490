"""Scenarios: the YAML format, the runner, reports and record-to-scenario (docs/scenarios.md)."""
