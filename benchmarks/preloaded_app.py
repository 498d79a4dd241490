"""The emulator without a state file, holding the records of one (bench_state_file.py's baseline).

python -m benchmarks.preloaded_app STATE_FILE --port N
"""

from __future__ import annotations

import argparse

from aiohttp import web

from fake_askelephant.api.context import emulator_key
from fake_askelephant.app import create_app
from fake_askelephant.config import Settings
from fake_askelephant.persistence import state
from fake_askelephant.persistence.statefile import StateFile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("state_file")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    file = StateFile(args.state_file)
    rows = file.rows()
    file.close()
    app = create_app(Settings(seed=1, time_scale=0.0))
    state.load(app[emulator_key], rows)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
