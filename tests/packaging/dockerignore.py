"""`.dockerignore` as Docker reads it: the last matching pattern wins, `!` re-includes, a pattern that matches a
directory matches everything under it, `*` and `?` stop at `/` and `**` spans directories (moby/patternmatcher).
Character classes are not supported (the repository's file uses none)."""

from __future__ import annotations

import re
from pathlib import Path


def _regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] in "[\\":
            raise ValueError(f"unsupported .dockerignore pattern {pattern!r}")
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


class DockerIgnore:
    def __init__(self, path: Path) -> None:
        self.rules: list[tuple[bool, re.Pattern[str]]] = []
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            pattern = line.removeprefix("!").strip().strip("/")
            self.rules.append((negated, _regex(pattern)))

    def excluded(self, relative: str) -> bool:
        """Whether the file at this context-relative path stays out of the build context."""
        parts = relative.strip("/").split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        verdict = False
        for negated, regex in self.rules:
            if any(regex.fullmatch(p) for p in prefixes):
                verdict = not negated
        return verdict

    def could_reinclude_below(self, directory: str) -> bool:
        """Whether a `!` pattern might re-include something under an excluded directory (else skip walking it)."""
        prefix = directory.strip("/") + "/"
        return any(negated and regex.pattern.startswith(re.escape(prefix)) for negated, regex in self.rules)

    def context(self, root: Path) -> list[str]:
        """The files under `root` that `docker build root` sends, as root-relative POSIX paths."""
        kept: list[str] = []

        def walk(directory: Path) -> None:
            for entry in sorted(directory.iterdir()):
                relative = entry.relative_to(root).as_posix()
                if entry.is_dir() and not entry.is_symlink():
                    if not self.excluded(relative) or self.could_reinclude_below(relative):
                        walk(entry)
                elif not self.excluded(relative):
                    kept.append(relative)

        walk(root)
        return kept
