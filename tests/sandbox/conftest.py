"""Sandbox tests run the app in-process through httpx's ASGI transport (no ports, no services)."""

from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.app import create_sandbox_app
from sandbox.youtube.world import World, build_world
from tests.sandbox.helpers import client_for


@pytest.fixture
def world() -> World:
    return build_world(1)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(create_sandbox_app(seed=1)) as c:
        yield c
