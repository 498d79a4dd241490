"""Opt-in persistence (`--state-file`) and named snapshots: what is saved, how, and where."""
