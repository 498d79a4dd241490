"""Offline emulator of the AskElephant public API v2.

cli.py, config.py   `fake-askelephant serve|health|scenario`, Settings from env and flags
app.py              create_app: the emulator plus one setup per HTTP feature, the middleware order written once
emulator.py         the composition root: core services and webhook delivery, built in dependency order
core/               the domain (imports only itself and the standard library, plus orjson)
api/, api/admin/    the HTTP edge: the public v2 API, and the control plane under /__admin
webhooks/           delivery, signing, hazards and the built-in sink
persistence/        `--state-file` and snapshots
scenarios/          the scenario format, runner, reports and session recorder
inspector/          the /__admin/ui page (package data) and engagement histories
media_fetch.py      `--media-fetch`; healthcheck.py the container HEALTHCHECK
testing.py          FakeAskElephant: an isolated workspace on a running emulator, for a vendor's tests
pytest_plugin.py    the `fake_askelephant` fixture (entry point pytest11)
"""

__version__ = "0.1.0"
