"""The proof of the platform contract: a platform defined only in the test suite
(tests/platforms/toy.py) and named in BEAT_PLATFORMS shows up in `beat flows`, `beat parse`,
`beat links --resolve-only`, `beat platforms` and the generic endpoints, served by real server
and worker processes."""

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from core import db
from tests import beat_cli
from tests.e2e.procs import Launcher, free_port, wait_server_ready
from tests.platforms.toy import TOY_TABLE

TOY = "tests.platforms.toy:PLATFORM"


@pytest.fixture(scope="module")
def launcher(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    launcher = Launcher(database_url, tmp_path_factory.mktemp("toy"))
    try:
        yield launcher
    finally:
        launcher.stop_all()


def run(launcher: Launcher, *args: str, stdin: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    return beat_cli.run(list(args), launcher.env(BEAT_PLATFORMS=TOY), cwd=launcher.workdir,
                        input=stdin)


def test_beat_flows_lists_the_toy_flow(launcher: Launcher) -> None:
    result = run(launcher, "flows", "--json")
    assert result.returncode == 0, result.stderr
    flows = {f["name"]: f for f in map(json.loads, result.stdout.splitlines())}
    assert flows["refresh_toy_profile"]["platform"] == "TOY"
    assert flows["refresh_yt_profiles"]["platform"] == "YOUTUBE"  # installed ones stay


def test_beat_parse_uses_the_toy_parser(launcher: Launcher, tmp_path: Path) -> None:
    document = tmp_path / "users.json"
    document.write_text(json.dumps({"users": [{"handle": "alice", "followers": 7},
                                              {"handle": "bob"}]}))
    result = run(launcher, "parse", "--platform", "toy", str(document))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(x["platform"], x["kind"], x["id"], x["followers"]) for x in lines] == [
        ("toy", "profile", "alice", 7), ("toy", "profile", "bob", None)]
    refused = run(launcher, "parse", "--platform", "TOY", str(Path(__file__)))
    assert refused.returncode == 2 and "is not JSON" in refused.stderr
    document.write_text("[]")
    refused = run(launcher, "parse", "--platform", "toy", str(document))
    assert refused.returncode == 2 and "not a toy users document" in refused.stderr


def test_beat_links_resolves_toy_urls_beside_youtube_ones(launcher: Launcher) -> None:
    urls = ["https://toy.example/u/alice", "toy.example/p/abc123", "https://toy.example/x/y",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://toy.example.evil.test/u/a"]
    result = run(launcher, "links", "--resolve-only", "-", stdin="\n".join(urls) + "\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[:2] == [
        {"url": urls[0], "platform": "toy", "kind": "profile", "id": "@alice"},
        {"url": urls[1], "platform": "toy", "kind": "post", "id": "abc123"}]
    assert lines[2] == {"url": urls[2], "error": "/x/y is not a toy profile or post"}
    assert lines[3]["platform"] == "youtube" and lines[3]["id"] == "dQw4w9WgXcQ"
    assert lines[4]["error"].startswith("unsupported platform")


def test_beat_platforms_lists_both(launcher: Launcher) -> None:
    result = run(launcher, "platforms", "--json")
    assert result.returncode == 0, result.stderr
    found = {p["name"]: p for p in map(json.loads, result.stdout.splitlines())}
    assert found["toy"]["lookups"] == ["profile_by_handle"]
    assert found["toy"]["hosts"] == ["toy.example"]
    assert "recent_posts" in found["youtube"]["lookups"]


async def test_the_generic_endpoints_serve_the_toy_platform(launcher: Launcher,
                                                            database_url: str) -> None:
    conn = await asyncpg.connect(db.asyncpg_dsn(database_url))
    try:
        await conn.execute(TOY_TABLE)
    finally:
        await conn.close()
    port = free_port()
    server = launcher.server(port, BEAT_PLATFORMS=TOY)
    launcher.worker("refresh_toy_profile", BEAT_PLATFORMS=TOY, WORKER_PROCESS_CAP=1)
    await wait_server_ready(server, port)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as api:
        got = await api.get("/profiles/TOY/byhandle/alice", params={"wait": 20})
        assert got.status_code == 200, got.text
        body = got.json()
        assert (body["platform"], body["handle"], body["followers"]) == ("toy", "alice", 500)
        again = await api.get("/profiles/toy/byhandle/@alice", params={"wait": 0})
        assert again.json() == body, "fresh: answered from storage"
        missing = await api.get("/profiles/TOY/byprofileid/123")
        assert missing.status_code == 404
        assert missing.json()["detail"] == "TOY has no lookup of profiles by profile id"
        unknown = await api.get("/profiles/MYSPACE/byhandle/alice")
        assert unknown.status_code == 404
        assert unknown.json()["detail"] == ("unknown platform 'MYSPACE' (known: ASSETS, "
                                            "ENRICHMENT, FACEBOOK, INSTAGRAM, TOY, X, YOUTUBE)")
        bad = await api.get("/profiles/TOY/byhandle/not-a-handle")
        assert bad.status_code == 422 and "not a toy handle" in bad.text
        schemas = (await api.get("/openapi.json")).json()["components"]["schemas"]
        assert {"ToyProfile", "YoutubeChannel", "YoutubeVideo", "Refreshing"} <= set(schemas)
        listed = (await api.get("/platforms")).json()
        assert [p["api_name"] for p in listed] == ["ASSETS", "ENRICHMENT", "FACEBOOK",
                                                   "INSTAGRAM", "TOY", "X", "YOUTUBE"]
