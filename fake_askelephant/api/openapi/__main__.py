"""`python -m fake_askelephant.api.openapi [--check]`: regenerate wire_schemas/openapi.json, or check it is current."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import generate

TARGET = Path(__file__).resolve().parents[3] / "wire_schemas" / "openapi.json"


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fake_askelephant.api.openapi", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed document is stale")
    parser.add_argument("--out", type=Path, default=TARGET, help=f"where to write (default {TARGET})")
    args = parser.parse_args(argv)
    text = render(generate())
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: run python -m fake_askelephant.api.openapi", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
