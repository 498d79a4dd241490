"""The console scripts as real processes: `fake-askelephant serve` started, its banner read, stopped."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BANNER_END = "Time scale"


def console_script(name: str, module: str) -> list[str]:
    """The console script when installed (CI installs the package); `python -m` from a bare checkout."""
    script = shutil.which(name, path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", module]


def cli() -> list[str]:
    return console_script("fake-askelephant", "fake_askelephant")


def base_env(**config: str) -> dict[str, str]:
    """The parent's environment minus any FAKE_ASKELEPHANT_* it happens to carry, plus `config`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_ASKELEPHANT_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(config)
    return env


@dataclass
class Served:
    proc: subprocess.Popen[str]
    base: str  # http://127.0.0.1:PORT
    banner: str
    stderr_path: Path
    _stderr: Any = field(repr=False, default=None)

    @property
    def api(self) -> str:
        """The API base URL a client is given: http://127.0.0.1:PORT/api."""
        return f"{self.base}/api"

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self.close()
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        if self._stderr:
            self._stderr.close()


def start(
    args: list[str],
    env: dict[str, str],
    tmp_path: Path,
    name: str = "server",
    *,
    program: list[str] | None = None,
    cwd: Path = ROOT,
) -> Served:
    """`fake-askelephant ARGS` (or `PROGRAM ARGS`, e.g. an installed copy's script), returned once its banner is
    printed; stderr goes to `tmp_path/NAME.stderr.log`."""
    stderr_path = tmp_path / f"{name}.stderr.log"
    stderr = stderr_path.open("w")
    command = [*(program or cli()), *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env, cwd=cwd)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if BANNER_END in line:
            break
    banner = "".join(lines)
    # Every test binds loopback; the banner names 127.0.0.1 even for a 0.0.0.0 bind.
    match = re.search(r"Base URL\s+(http://127\.0\.0\.1:\d+)/api", banner)
    if not match:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        stderr.close()
        raise AssertionError(f"no banner: {banner!r}; stderr: {stderr_path.read_text()}")
    return Served(proc, match.group(1), banner, stderr_path, stderr)
