"""Where Debian's Chromium is and how to start it here (shared by the browser tests and the screenshot script)."""

from __future__ import annotations

import os
import shutil

# Headless on a closed network: without the background-networking flags Chromium keeps dialling out.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1600, "height": 900}


def chromium_path() -> str | None:
    """FAKE_ASKELEPHANT_CHROMIUM if set, else `chromium` on PATH (Debian's package)."""
    configured = os.environ.get("FAKE_ASKELEPHANT_CHROMIUM")
    if configured:
        return configured if os.path.exists(configured) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")
