"""Fixtures for the reference client tests: loopback stub API and fake time."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from reference_client import AskElephantClient, RetryPolicy
from tests.reference_client.refclient_stubs import API_KEY, RecordingSleep, StubApi


@pytest.fixture
async def stub_api() -> AsyncIterator[StubApi]:
    stub = StubApi()
    await stub.start()
    yield stub
    await stub.close()


@pytest.fixture
def recording_sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def stub_client(stub_api: StubApi, recording_sleep: RecordingSleep) -> AsyncIterator[AskElephantClient]:
    # random=0.0 removes jitter so backoff delays are exact in assertions.
    policy = RetryPolicy(sleep=recording_sleep, random=lambda: 0.0)
    async with AskElephantClient(API_KEY, stub_api.base_url, retry=policy, timeout=5) as client:
        yield client
