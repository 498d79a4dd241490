"""Opt-in persistence (`--state-file`) and named snapshots: what is saved, how, and where.

  state.py, webhook_state.py   the emulator's state as rows (kind, key) → JSON, and loading them back
  codec.py                     dataclasses ⇄ JSON by their type hints
  statefile.py                 the SQLite file: rows, meta, snapshots
  persister.py                 keeps the file in step: diffed writes off the event loop, snapshot, restore
The HTTP side (middleware, snapshot routes) is api/admin/snapshots.py.
"""
