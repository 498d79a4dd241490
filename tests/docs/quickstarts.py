"""A quick-start page (docs/quickstart-*.md) as the reader follows it: one `fake-askelephant serve` block to start
the emulator, then the shell blocks in order in one shell (files written where the page says "Save as `PATH`:"),
each ```text block being what the shell block before it prints (`…` stands for anything).

The page's address, 127.0.0.1:8787, becomes the test's emulator; nothing else is rewritten but the `npm install`
lines, which the caller replaces (nothing is downloaded at test time) after checking what they name.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.cli_process import ROOT, Served, base_env, start

PAGE_ADDRESS = "127.0.0.1:8787"
_BLOCK = re.compile(r"(?:Save as `(?P<file>[^`]+)`:\n\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)
_MARK = "@@quickstart-block"


@dataclass
class QuickStart:
    serve_args: list[str]
    blocks: list[str] = field(default_factory=list)  # shell text, file writes included
    expected: dict[int, list[str]] = field(default_factory=dict)  # block index → the lines it prints
    installs: list[str] = field(default_factory=list)  # the page's `npm install …` lines, not run

    def script(self, address: str, install: str = "") -> str:
        """The page as one bash script against `address`; each block's output is preceded by a marker line."""
        parts = ["set -euo pipefail"]
        for n, block in enumerate(self.blocks):
            text = block.replace(PAGE_ADDRESS, address)
            text = re.sub(r"^npm install .*$", install or ":", text, count=0, flags=re.M)
            parts += [f"echo {_MARK} {n}", text]
        return "\n".join(parts) + "\n"


def parse(page: Path) -> QuickStart:
    serve: list[str] | None = None
    quick = QuickStart([])
    for match in _BLOCK.finditer(page.read_text()):
        lang, body, path = match["lang"], match["body"], match["file"]
        if path:
            delimiter = "QUICKSTART_EOF"
            assert delimiter not in body
            quick.blocks.append(f"mkdir -p \"$(dirname '{path}')\"\ncat > '{path}' <<'{delimiter}'\n{body}{delimiter}")
        elif lang == "bash" and body.startswith("fake-askelephant serve"):
            assert serve is None, "one serve block per page"
            serve = shlex.split(body.strip())[2:]
        elif lang == "bash":
            quick.installs += re.findall(r"^npm install .*$", body, re.M)
            quick.blocks.append(body)
        elif lang == "text":
            assert quick.blocks, "a ```text block shows what the block before it prints"
            quick.expected[len(quick.blocks) - 1] = body.strip().splitlines()
        else:
            raise AssertionError(f"{page.name}: a ```{lang} block that is neither a command nor a file to save")
    assert serve is not None, f"{page.name} never starts the emulator"
    quick.serve_args = serve
    return quick


def outputs(stdout: str) -> dict[int, list[str]]:
    """Block index → the non-empty lines it printed."""
    found: dict[int, list[str]] = {}
    current = -1
    for line in stdout.splitlines():
        if line.startswith(_MARK):
            current = int(line.split()[1])
            found[current] = []
        elif line.strip() and current >= 0:
            found[current].append(line.rstrip())
    return found


def assert_prints_what_the_page_shows(quick: QuickStart, stdout: str) -> None:
    printed = outputs(stdout)
    assert quick.expected, "the page shows no output to hold it to"
    for n, lines in quick.expected.items():
        patterns = [re.compile(re.escape(line).replace("…", ".+")) for line in lines]
        got = printed.get(n, [])
        assert len(got) == len(patterns) and all(p.fullmatch(g) for p, g in zip(patterns, got, strict=True)), (
            f"block {n} printed {got}, the page shows {lines}\n--- whole output:\n{stdout}"
        )


def serve(quick: QuickStart, tmp_path: Path) -> Served:
    """`fake-askelephant serve` with the page's flags, on a free port."""
    return start(["serve", *quick.serve_args, "--port", "0"], base_env(), tmp_path, "quickstart")


def run(script: str, cwd: Path, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


__all__ = ["ROOT", "QuickStart", "assert_prints_what_the_page_shows", "parse", "run", "serve"]
