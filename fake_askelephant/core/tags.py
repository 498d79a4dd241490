"""Tag use cases: list, create, update, soft delete (api.md §10), and the analysis' tagging hook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .derived import DerivedContent
from .directory import live_tags
from .directory_service import DirectoryService
from .errors import Conflict, NotFound
from .models import Engagement, Principal, Tag
from .paging import ListQuery, Page, list_page
from .records import dataclass
from .store import Store


@dataclass(frozen=True)
class TagDraft:
    name: str
    description: str | None = None
    hex_color: str | None = None
    auto_tagging_enabled: bool = True


# What PATCH /v2/tags/{id} may change (its path is not documented: emulator choice).
PATCHABLE = ("name", "description", "hex_color", "auto_tagging_enabled")


class TagService(DirectoryService):
    """Tags (api.md §10): names unique among live tags, any case (the create page's 409; rule: emulator choice);
    a delete is soft (the tag keeps its row, marked `deleted_at`) and hides it from every read and link."""

    def list_tags(self, principal: Principal, query: ListQuery) -> Page[Tag]:
        """No search on tags (api.md §8)."""
        return list_page(live_tags(self._directory(principal.workspace_id).tags.values()), query)

    def get_tag(self, principal: Principal, tag_id: str) -> Tag:
        tag = self._find(self._directory(principal.workspace_id).tags, "tag", tag_id)
        if tag.deleted_at is not None:
            raise NotFound("tag", tag_id)
        return tag

    def create_tag(
        self,
        workspace_id: str,
        draft: TagDraft,
        *,
        emit: bool = True,
        tag_id: str | None = None,
        name_checked: bool = False,
    ) -> Tag:
        """409 when a live tag already has the name (any case). `name_checked`: the caller (a seed-data load, which
        keeps the names of a workspace's tags at hand) has checked that already, without this scan of every tag."""
        if not name_checked:
            self._check_name_free(workspace_id, draft.name, None)
        now = self._now_ms()
        tag = Tag(
            tag_id or self._ids.new("tag"),
            workspace_id,
            draft.name,
            now,
            now,
            description=draft.description,
            hex_color=draft.hex_color,
            auto_tagging_enabled=draft.auto_tagging_enabled,
        )
        self._directory(workspace_id).tags[tag.id] = tag
        self._changes.created(tag, emit=emit)
        return tag

    def update_tag(self, tag: Tag, changes: Mapping[str, Any], *, emit: bool = True, name_checked: bool = False) -> Tag:
        fields = {k: v for k, v in changes.items() if k in PATCHABLE}
        if "name" in fields and not name_checked:
            self._check_name_free(tag.workspace_id, fields["name"], tag.id)
        self._changes.change(tag, emit=emit, **fields)
        return tag

    def rename_tag(self, tag: Tag, name: str, *, emit: bool = True) -> Tag:
        return self.update_tag(tag, {"name": name}, emit=emit)

    def delete_tag(self, principal: Principal, tag_id: str) -> Tag:
        """Soft delete (delete-tag page): detaches the tag from every engagement (each emits updated), then emits
        `v1.tag.deleted`; a second delete is 404."""
        tag = self.get_tag(principal, tag_id)
        tag.deleted_at = self._now_ms()
        self._changes.change(tag, emit=False)  # stored with its deleted_at; the view does not change
        ws = self._store.workspace(tag.workspace_id)
        for e in [e for e in ws.engagements.values() if tag.id in e.tag_ids]:
            self._changes.change(e, tag_ids=[t for t in e.tag_ids if t != tag.id])
        self._changes.deleted(tag, soft=True)
        return tag

    def _check_name_free(self, workspace_id: str, name: str, owner_id: str | None) -> None:
        wanted = name.casefold()
        for other in live_tags(self._directory(workspace_id).tags.values()):
            if other.id != owner_id and other.name.casefold() == wanted:
                raise Conflict(f"Tag name {name!r} is already used by tag {other.id}.")


class AutoTagging:
    """The pipeline's tagging hook (Pipeline.attach_tagger): the workspace tags the analysis applies to a call."""

    def __init__(self, store: Store, derived: DerivedContent) -> None:
        self._store = store
        self._derived = derived

    def __call__(self, e: Engagement) -> list[str]:
        return self._derived.auto_tags(e, self._store.workspace(e.workspace_id).directory.tags.values())
