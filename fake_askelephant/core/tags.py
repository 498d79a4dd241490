"""Tag use cases: list, create, rename, delete (api.md §10; the write routes are an emulator choice)."""

from __future__ import annotations

from .derived import DerivedContent
from .directory_service import DirectoryService
from .models import Engagement, Principal, Tag
from .paging import ListQuery, Page, list_page
from .store import Store


class TagService(DirectoryService):
    def list_tags(self, principal: Principal, query: ListQuery) -> Page[Tag]:
        """No search on tags (api.md §8)."""
        return list_page(self._directory(principal.workspace_id).tags.values(), query)

    def get_tag(self, principal: Principal, tag_id: str) -> Tag:
        return self._find(self._directory(principal.workspace_id).tags, "tag", tag_id)

    def create_tag(self, workspace_id: str, name: str, *, emit: bool = True, tag_id: str | None = None) -> Tag:
        """Names need not be unique: the docs give tags no 409 (api.md §4)."""
        now = self._now_ms()
        tag = Tag(tag_id or self._ids.new("tag"), workspace_id, name, now, now)
        self._directory(workspace_id).tags[tag.id] = tag
        self._changes.created(tag, emit=emit)
        return tag

    def rename_tag(self, tag: Tag, name: str, *, emit: bool = True) -> Tag:
        self._changes.change(tag, emit=emit, name=name)
        return tag

    def delete_tag(self, principal: Principal, tag_id: str) -> None:
        """Detaches the tag from every engagement (each emits updated), then emits `v1.tag.deleted`."""
        tag = self.get_tag(principal, tag_id)
        d = self._directory(tag.workspace_id)
        self._delete(
            tag,
            remove=lambda: d.tags.pop(tag.id),
            linked=lambda e: tag.id in e.tag_ids,
            unlink=lambda e: self._changes.change(e, tag_ids=[t for t in e.tag_ids if t != tag.id]),
        )


class AutoTagging:
    """The pipeline's tagging hook (Pipeline.attach_tagger): the workspace tags the analysis applies to a call."""

    def __init__(self, store: Store, derived: DerivedContent) -> None:
        self._store = store
        self._derived = derived

    def __call__(self, e: Engagement) -> list[str]:
        return self._derived.auto_tags(e, self._store.workspace(e.workspace_id).directory.tags.values())
