"""API suites written from the spec; importing this package registers every check in ``API_CHECKS``."""

from contract_tests.api_suites import (  # noqa: F401
    concurrency,
    create,
    directory,
    fuzz,
    lists,
    pipeline,
    reads,
    rules,
    stateful,
    webhooks,
    workspace_state,
)
