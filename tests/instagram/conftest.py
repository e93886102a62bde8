"""The sandbox app in-process as the platform the Instagram sources call (core.http's client
swapped for one over httpx's ASGI transport)."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from itertools import count

import httpx
import pytest
from fastapi import FastAPI

from core import http
from sandbox.app import create_sandbox_app
from sandbox.instagram.world import World, build_world

SANDBOX = "http://sandbox"
RAPIDAPI_URL = f"{SANDBOX}/rapidapi/instagram"
WEB_URL = f"{SANDBOX}/instagram-web"
HOST = "rocketapi-for-instagram.p.rapidapi.com"
KEY = "sandbox-rapidapi-key"


@dataclass
class Sandbox:
    app: FastAPI
    client: httpx.AsyncClient

    async def usage(self) -> dict[str, dict[str, int]]:
        body: dict[str, dict[str, int]] = (await self.client.get("/_sandbox/usage")).json()
        return body


def ticking(step: float) -> Iterator[float]:
    return (step * n for n in count())


@pytest.fixture
def world() -> World:
    return build_world(1)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """The sandbox at SANDBOX; the provider's clock moves a second a call, so no walk through
    pages meets its 2/s limit unless a test asks for it."""
    app = create_sandbox_app(seed=1)
    clock = ticking(1.0)
    app.state.instagram_rapidapi.clock = lambda: next(clock)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SANDBOX)
    http.use_client(client)
    yield Sandbox(app, client)
    await http.close_client()
