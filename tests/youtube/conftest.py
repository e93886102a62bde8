"""The YouTube tests' sandbox: the whole sandbox app in process (seed 1), as Beat's shared HTTP
client, at SANDBOX."""

from collections.abc import AsyncIterator

import httpx
import pytest

from core import http
from sandbox.app import create_sandbox_app

SANDBOX = "http://sandbox"


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_sandbox_app(seed=1)),
                               base_url=SANDBOX)
    http.use_client(client)
    yield client
    await http.close_client()
