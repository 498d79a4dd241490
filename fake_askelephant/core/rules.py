"""Pipeline rules armed before the vendor's code creates an engagement (pipeline.md §5)."""

from __future__ import annotations

from dataclasses import field
from fnmatch import fnmatchcase
from typing import Literal

from .ids import IdFactory
from .models import EngagementDraft
from .pipeline import PipelineOverrides
from .records import dataclass

MediaOutcome = Literal["ok", "unreachable", "unsupported_media_type"]


@dataclass
class PipelineRule:
    id: str
    match: dict[str, str]
    pipeline: PipelineOverrides = field(default_factory=PipelineOverrides)
    count: int | None = None  # remaining uses; None = unlimited
    media: MediaOutcome | None = None
    duration_seconds: int | None = None
    hits: int = 0

    def matches(self, workspace_id: str, draft: EngagementDraft) -> bool:
        values = {"workspace_id": workspace_id, "external_id": draft.external_id, "media_url": draft.media_url or ""}
        return all(fnmatchcase(values.get(k, ""), pattern) for k, pattern in self.match.items())


class PipelineRules:
    """First match wins; a rule with a count disarms itself when used up."""

    def __init__(self, ids: IdFactory) -> None:
        self._ids = ids
        self.rules: list[PipelineRule] = []

    def arm(
        self,
        match: dict[str, str],
        pipeline: PipelineOverrides,
        *,
        count: int | None = None,
        media: MediaOutcome | None = None,
        duration_seconds: int | None = None,
    ) -> PipelineRule:
        """`POST /__admin/pipeline-rules`: armed after the rules already there (first match wins)."""
        rule = PipelineRule(self._ids.new("prl"), match, pipeline, count, media, duration_seconds)
        self.rules.append(rule)
        return rule

    def take(self, workspace_id: str, draft: EngagementDraft) -> PipelineRule | None:
        for rule in self.rules:
            if rule.matches(workspace_id, draft):
                rule.hits += 1
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self.rules.remove(rule)
                return rule
        return None

    def clear(self, workspace_id: str | None = None) -> None:
        if workspace_id is None:
            self.rules.clear()
        else:
            self.rules = [
                r
                for r in self.rules
                if "workspace_id" not in r.match or not fnmatchcase(workspace_id, r.match["workspace_id"])
            ]
