"""The write set: which stored records changed since persistence last wrote them (issue 18, O(1) per write).

Services call `put(table, key, record)` when a record is created or changed and `gone(table, key)` when it is
removed; persistence takes the set after each state-changing request (and after background work), encodes just
those records and commits them in one transaction. A reset swaps whole containers out, so it marks everything
(`everything()`): the next write rewrites the file from what is left. Off, and free, without a state file.

Tables name what is stored, not how: a record that later becomes derived (issue 22: generated transcripts) simply
stops being written. The names are those of the state file's `records.kind` column (persistence/state.py).
"""

from __future__ import annotations

from typing import Any

WORKSPACES = "workspace"
USERS = "workspace.users"
ENGAGEMENTS = "workspace.engagements"
CONTACTS = "workspace.directory.contacts"
COMPANIES = "workspace.directory.companies"
TAGS = "workspace.directory.tags"
TRANSCRIPT_COMMENTS = "workspace.directory.transcript_comments"
API_KEYS = "store.keys"
OAUTH_CLIENTS = "store.oauth_clients"
OAUTH_TOKENS = "store.oauth_tokens"
EVENTS = "events"
PIPELINE_RUNS = "pipeline.runs"
WEBHOOK_MESSAGES = "webhooks.messages"
WEBHOOK_ATTEMPTS = "webhooks.attempts"
SINK_REQUESTS = "webhooks.sink_requests"

Key = tuple[str, str]


def scoped(workspace_id: str, record_id: str) -> str:
    """The key of a workspace's record."""
    return f"{workspace_id}/{record_id}"


class WriteSet:
    __slots__ = ("on", "records", "reset", "version")

    def __init__(self) -> None:
        self.on = False
        self.version = 0  # counts every write, file or not: admin reads answer 304 while it stands still
        self.records: dict[Key, Any] = {}  # the live record, or None when it is gone; insertion-ordered
        self.reset = False

    def put(self, table: str, key: str, record: Any) -> None:
        self.version += 1
        if self.on:
            self.records[(table, key)] = record

    def gone(self, table: str, key: str) -> None:
        self.version += 1
        if self.on:
            self.records[(table, key)] = None

    def everything(self) -> None:
        """Containers were swapped out wholesale (reset, restore): the next write rewrites the file."""
        self.version += 1
        if self.on:
            self.reset = True
            self.records.clear()

    def take(self) -> tuple[dict[Key, Any], bool]:
        records, reset = self.records, self.reset
        self.records, self.reset = {}, False
        return records, reset

    def __bool__(self) -> bool:
        return bool(self.records) or self.reset
