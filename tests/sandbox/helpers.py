"""Helpers of the sandbox tests: fixtures read in place, key paths, an in-process client."""

import json
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

FIXTURES = Path(__file__).parents[2].parent / "shared" / "fixtures" / "youtube"
KEY = "sandbox-key-1"


def fixture(name: str) -> Any:
    """A real Data API response from ../shared/fixtures/youtube (read in place, never copied)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value: "snippet.thumbnails.default.url"; lists add "[]"."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths |= {path} | key_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            paths |= key_paths(item, f"{prefix}[]")
    return paths


def without(paths: set[str], *optional: str) -> set[str]:
    """`paths` minus the optional ones and everything under them."""
    return {p for p in paths if not any(p == o or p.startswith(o + ".") for o in optional)}


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def data_api(client: httpx.AsyncClient, method: str, **params: Any) -> httpx.Response:
    """GET /youtube/v3/<method> with the default key unless `key` is given."""
    params.setdefault("key", KEY)
    return await client.get(f"/youtube/v3/{method}", params=params)
