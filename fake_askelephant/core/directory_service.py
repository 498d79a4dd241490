"""What the contact, company and tag services share: their collaborators and the steps each of them takes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .directory import Directory
from .errors import NotFound
from .ids import IdFactory
from .models import Company, Contact, Engagement, Tag
from .recorder import EngagementRecorder
from .resource_recorder import ResourceRecorder
from .store import Store, Workspace

R = TypeVar("R", Contact, Company, Tag)


@dataclass(frozen=True)
class DirectoryDeps:
    """The collaborators of every directory service, so the emulator wires them once."""

    store: Store
    ids: IdFactory
    now_ms: Callable[[], int]
    recorder: ResourceRecorder
    engagement_recorder: EngagementRecorder


class DirectoryService:
    """Base of ContactService, CompanyService and TagService (core/contacts.py, companies.py, tags.py)."""

    def __init__(self, deps: DirectoryDeps) -> None:
        self._store = deps.store
        self._ids = deps.ids
        self._now_ms = deps.now_ms
        self._recorder = deps.recorder
        self._engagement_recorder = deps.engagement_recorder

    def _directory(self, workspace_id: str) -> Directory:
        return self._store.workspace(workspace_id).directory

    @staticmethod
    def _find(table: Mapping[str, R], kind: str, record_id: str) -> R:
        """The record, or NotFound: a foreign workspace's id is simply not in `table` (core/store.py)."""
        record = table.get(record_id)
        if record is None:
            raise NotFound(kind, record_id)
        return record

    def _change_indexed(
        self,
        record: R,
        fields: Mapping[str, Any],
        *,
        emit: bool,
        unindex: Callable[[R], None],
        index: Callable[[R], None],
    ) -> R:
        """Store checked changes with the record out of the directory's indexes, re-indexing it even on failure."""
        unindex(record)
        try:
            self._recorder.change(record, emit=emit, **fields)
        finally:
            index(record)
        return record

    @staticmethod
    def _engagements_linking(ws: Workspace, linked: Callable[[Engagement], bool]) -> list[Engagement]:
        """The workspace's engagements that refer to a deleted record (a copy: callers change them)."""
        return [e for e in ws.engagements.values() if linked(e)]
