"""State format 1 → 2: the same JSON bodies under simpler keys, one row per record (statefile.py migrates).

Format 1 keyed rows with their position (`000000012/ngmt_…`) to keep insertion order and kept a workspace's
contacts, companies, tags and transcript comments inside its `workspace` row. Format 2 keeps order in its `seq`
column and gives every record its own row, so a write touches only what changed. Sorting format 1 keys gives the
order it loaded in; rows are emitted in that order.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

Key = tuple[str, str]
Row = tuple[str, str, bytes]
DIRECTORY_TABLES = ("contacts", "companies", "tags", "transcript_comments")
_POSITIONED = frozenset(
    {"store.keys", "store.oauth_clients", "store.oauth_tokens", "pipeline.runs", "webhooks.endpoints", "events"}
)
_POSITIONED_IN_WORKSPACE = frozenset({"workspace.users", "workspace.engagements"})


def v1_to_v2(rows: Mapping[Key, bytes]) -> list[Row]:
    out: list[Row] = []
    for (kind, key), body in sorted(rows.items()):
        if kind == "workspace":
            data = orjson.loads(body)
            ws_id = data["id"]
            out.append((kind, ws_id, orjson.dumps({"id": ws_id})))
            directory = data.get("directory") or {}
            for table in DIRECTORY_TABLES:
                for record_id, record in directory.get(table, {}).items():
                    out.append((f"workspace.directory.{table}", f"{ws_id}/{record_id}", orjson.dumps(record)))
        elif kind in _POSITIONED_IN_WORKSPACE:
            ws_id, _, rest = key.partition("/")
            out.append((kind, f"{ws_id}/{rest.partition('/')[2]}", body))
        elif kind in _POSITIONED or kind == "webhooks.messages":
            out.append((kind, key.partition("/")[2], body))
        elif kind in ("rules", "faults"):
            out.append((kind, str(orjson.loads(body)["id"]), body))
        elif kind == "webhooks.attempts":
            out.append((kind, str(int(key)), body))
        elif kind == "webhooks.sink_requests":
            name, _, seq = key.rpartition("/")
            out.append((kind, f"{name}/{int(seq)}", body))
        else:  # meta.clock, meta.rng, webhooks.sinks, webhooks.counters: unchanged
            out.append((kind, key, body))
    return out
