"""`beat bench links`: one links report of N post URLs through the real server and workers
against the sandbox (50 ms a call): a `POST /links` with the N URLs, timed until
`GET /links/{id}` says COMPLETE. The URLs mix YouTube, Instagram, Facebook and X about a quarter
each, in several URL forms each, about a tenth of them repeating an earlier item in another form.

The line says the rate (input links per second), the report's ok rows, the thumbnails the assets
flow stored (its worker runs beside the refresh flows; --no-thumbnails leaves it out and the report
links the platforms' images), and the upstream API calls the sandbox counted: in all, per input
link and per platform (image downloads are not API calls: they are left out). Before the timed runs
one untimed report of the same URLs asks the sandbox for every item once (it generates an item's
details on first use, and no run should pay for that), and every run starts from empty entity and
task tables, so each refreshes every item again. The platforms' rate limits are raised out of the
way (Instagram's and Facebook's Graph usage budgets, Instagram's web and provider limits, X's calls
per window, and Beat's own per-token call limits): the benchmark measures the report, not the
platforms' throttling.

There is no bare-loop line: a report is routing, de-duplication, refresh tasks and reading back,
and no plain loop does the same work to compare with.
"""

import asyncio
import json
import random
import tempfile
import time
from collections import Counter
from typing import Any

import asyncpg
import httpx

from bench.scrape_bench import _ready
from bench.scratch import beat_process, rounded, scratch_database
from core import db
from core.config import Settings
from core.services import free_port
from instagram.settings import SANDBOX_GRAPH_TOKENS, SANDBOX_RAPIDAPI_KEYS
from x.settings import SANDBOX_BEARER

SEED = 1
DUPLICATE_SHARE = 0.1
PLATFORMS = ("youtube", "instagram", "facebook", "x")
REFRESH_FLOWS = ("refresh_yt_posts", "refresh_yt_profiles", "refresh_post_by_shortcode",
                 "refresh_profile_by_handle", "refresh_profile_basic", "refresh_fb_post",
                 "refresh_fb_video",
                 "refresh_fb_page", "refresh_x_post", "refresh_x_profile")
REPORT_FLOW = "build_link_report"
ASSET_FLOW = "asset_upload_flow"
CONCURRENCY = 25  # refresh tasks in flight per worker process and flow
HUGE = 100_000_000
# Where the sandbox's routes are: the platform each counted call belongs to.
ROUTE_PLATFORMS = (("/youtube/", "youtube"), ("/invidious/", "youtube"),
                   ("/instagram", "instagram"), ("/rapidapi/instagram/", "instagram"),
                   ("/graph/", "instagram"), ("/facebook/", "facebook"), ("/x/", "x"))
Line = dict[str, Any]


def bench_urls(count: int, seed: int = SEED) -> tuple[list[str], int]:
    """`count` post URLs, a quarter per platform, ~10% repeating an item in another URL form,
    shuffled the same way for the same seed; and how many distinct items they name."""
    rng = random.Random(seed)
    per_platform = [count // 4 + (1 if n < count % 4 else 0) for n in range(4)]
    urls: list[str] = []
    items = 0
    for platform, share in zip(PLATFORMS, per_platform, strict=True):
        unique = share - round(share * DUPLICATE_SHARE)
        forms = FORMS[platform](unique)
        urls += [form[0] for form in forms]
        urls += [rng.choice(form[1:]) for form in rng.sample(forms, share - unique)]
        items += unique
    rng.shuffle(urls)
    return urls, items


def _youtube(n: int) -> list[list[str]]:
    from sandbox.youtube.world import build_world

    return [[f"https://www.youtube.com/watch?v={v}", f"https://youtu.be/{v}",
             f"https://www.youtube.com/shorts/{v}", f"m.youtube.com/watch?v={v}&t=42"]
            for v in (video.video_id for video in build_world(SEED).find_videos(limit=n))]


def _instagram(n: int) -> list[list[str]]:
    from sandbox.instagram.world import build_world

    world = build_world(SEED)
    codes: list[str] = []
    for handle in world.business_handles(n):
        account = world.account_by_handle(handle)
        assert account is not None
        codes += [m.shortcode for m in world.media_of(account, count=1)]
    return [[f"https://www.instagram.com/p/{c}/", f"https://instagram.com/reel/{c}/?igsh=abc",
             f"instagram.com/p/{c}"] for c in codes[:n]]


def _facebook(n: int) -> list[list[str]]:
    from sandbox.facebook.world import build_world

    world = build_world(SEED)
    forms = []
    for video in sorted(world.videos.values(), key=lambda v: v.video_id):
        kind = "reel/" if video.reel else "watch/?v="
        forms.append([f"https://www.facebook.com/{kind}{video.video_id}",
                      f"https://m.facebook.com/watch?v={video.video_id}"])
    for post in world.post_list():
        page, story = post.post_id.split("_")
        forms.append([f"https://www.facebook.com/permalink.php?story_fbid={story}&id={page}",
                      f"https://www.facebook.com/{post.page.username}/posts/{post.pfbid}"])
    if n > len(forms):
        raise ValueError(f"the sandbox has {len(forms)} Facebook items; ask for fewer URLs")
    return random.Random(SEED).sample(forms, n)


def _x(n: int) -> list[list[str]]:
    from sandbox.x.world import CROWD_BASE, CROWD_TWEETS

    if n > CROWD_TWEETS:
        raise ValueError(f"the sandbox has {CROWD_TWEETS} X tweets; ask for fewer URLs")
    ids = [str(CROWD_BASE + k) for k in range(n)]
    return [[f"https://x.com/beatnews/status/{t}", f"https://twitter.com/beatnews/status/{t}?s=20",
             f"https://mobile.twitter.com/i/web/status/{t}"] for t in ids]


FORMS = {"youtube": _youtube, "instagram": _instagram, "facebook": _facebook, "x": _x}


def run_links_bench(settings: Settings, urls: int, processes: int, latency_ms: float,
                    repeat: int = 1, thumbnails: bool = True) -> list[Line]:
    """One line: the median of `repeat` timed reports, after one untimed warm-up report."""
    assert settings.database_url
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    links, unique = bench_urls(urls)
    sandbox_port, server_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    runs: list[Line] = []
    flows = (*REFRESH_FLOWS, REPORT_FLOW, *((ASSET_FLOW,) if thumbnails else ()))
    with scratch_database(settings.database_url) as url, \
            tempfile.TemporaryDirectory(prefix="beat-bench-assets-") as store, \
            beat_process("sandbox", "--port", str(sandbox_port), "--quota", str(HUGE),
                         "--latency-ms", str(latency_ms)):
        env = {**_environment(url, sandbox_url, processes), "ASSETS_DIR": store}
        with beat_process("server", "--port", str(server_port), **env), \
                beat_process("worker", "--flows", ",".join(flows), **env):
            server_url = f"http://127.0.0.1:{server_port}"
            for number in range(repeat + 1):
                asyncio.run(_reset(url))
                line = asyncio.run(_report(sandbox_url, server_url, links, thumbnails))
                line.update(asyncio.run(_thumbnails(url)))
                line = {"system": "beat", "urls": len(links), "unique": unique, **line}
                if number:  # the first report is the warm-up
                    runs.append(line)
    middle = sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]
    return [rounded({**middle, "processes": processes, "latency_ms": latency_ms,
                     "runs": [round(run["links_per_s"], 1) for run in runs]})]


def _environment(url: str, sandbox_url: str, processes: int) -> dict[str, str]:
    """The sandbox's credentials for every platform, and P processes for each refresh flow."""
    overrides = {flow: {"processes": processes, "concurrency": CONCURRENCY}
                 for flow in (*REFRESH_FLOWS, ASSET_FLOW)}
    return {"DATABASE_URL": url, "SANDBOX_URL": sandbox_url,
            "YOUTUBE_API_KEYS": "sandbox-key-1,sandbox-key-2",
            "INSTAGRAM_GRAPH_TOKENS": ",".join(SANDBOX_GRAPH_TOKENS),
            "INSTAGRAM_RAPIDAPI_KEYS": ",".join(SANDBOX_RAPIDAPI_KEYS),
            "FACEBOOK_GRAPH_TOKENS": "sandbox-graph-token", "X_BEARER_TOKEN": SANDBOX_BEARER,
            "CREDENTIAL_QUOTAS": json.dumps({"youtube_data_api": f"{HUGE}/day"}),
            "CREDENTIAL_LIMITS": json.dumps({"instagram_graph_api": [], "facebook_graph_api": [],
                                             "x_graphql": []}),
            "FLOW_OVERRIDES": json.dumps(overrides)}


async def _reset(url: str) -> None:
    """Empty entity, log and task tables: the next report refreshes every item again."""
    conn = await asyncpg.connect(db.asyncpg_dsn(url))
    try:
        await conn.execute("TRUNCATE scrape_request_log, event_outbox, profile_log, post_log, "
                           "youtube_post, youtube_account, instagram_post, instagram_account, "
                           "facebook_post, facebook_page, x_post, x_account, asset_log")
    finally:
        await conn.close()


# The stored posts that have an image of the platform's (a text-only post has none).
WITH_IMAGE = ("SELECT (SELECT count(*) FROM youtube_post WHERE thumbnail_url IS NOT NULL)"
              " + (SELECT count(*) FROM instagram_post WHERE coalesce(thumbnail_url, display_url)"
              " IS NOT NULL) + (SELECT count(*) FROM facebook_post WHERE thumbnail_url IS NOT"
              " NULL) + (SELECT count(*) FROM x_post WHERE thumbnail_url IS NOT NULL)")


async def _thumbnails(url: str) -> dict[str, int]:
    """The posts with an image, and the images the assets flow stored and failed to store."""
    conn = await asyncpg.connect(db.asyncpg_dsn(url))
    try:
        stored = await conn.fetchrow(  # one image twice: a post reached by two ids
            "SELECT count(DISTINCT source_url) FILTER (WHERE status = 'STORED') AS s, "
            "count(DISTINCT source_url) FILTER (WHERE status = 'FAILED') AS f FROM asset_log")
        return {"with_image": await conn.fetchval(WITH_IMAGE),
                "thumbnails_stored": stored["s"], "thumbnails_failed": stored["f"]}
    finally:
        await conn.close()


async def _prepare(client: httpx.AsyncClient, sandbox_url: str) -> None:
    """Counters zeroed; usage budgets and X's window far above anything a run spends."""
    for path, body in (("/_sandbox/reset", None), ("/_sandbox/instagram/graph/reset", None),
                       ("/_sandbox/instagram/graph/usage", {
                           "app_calls": HUGE, "token_calls": HUGE, "business_calls": HUGE,
                           "insights_calls": HUGE, "reset": True}),
                       ("/_sandbox/facebook/graph/usage", {
                           "app_calls": HUGE, "token_calls": HUGE, "reset": True}),
                       ("/_sandbox/instagram/limits", {
                           "web_calls": HUGE, "provider_windows": [[HUGE, 1.0]],
                           "reset": True}),
                       ("/_sandbox/x/budget", {"budget": HUGE, "reset": True})):
        answer = await client.post(f"{sandbox_url}{path}", json=body)
        answer.raise_for_status()


async def _report(sandbox_url: str, server_url: str, links: list[str], thumbnails: bool
                  ) -> Line:
    async with httpx.AsyncClient(timeout=120) as client:
        await _ready(client, f"{sandbox_url}/_sandbox/world")
        await _ready(client, f"{server_url}/heartbeat")
        await _prepare(client, sandbox_url)
        started = time.perf_counter()
        answer = await client.post(f"{server_url}/links",
                                   json={"urls": links, "timeout_s": 3600,
                                         "thumbnails": thumbnails})
        answer.raise_for_status()
        job = await _finished(client, f"{server_url}/links/{answer.json()['job_id']}")
        seconds = time.perf_counter() - started
        by_platform = await _calls(client, sandbox_url)
    calls = sum(by_platform.values())
    return {"seconds": seconds, "links_per_s": len(links) / seconds,
            "ok": job["summary"]["ok"], "upstream_calls": calls,
            "upstream_calls_per_link": calls / len(links), "by_platform": by_platform}


async def _finished(client: httpx.AsyncClient, job_url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        job: dict[str, Any] = (await client.get(job_url)).json()
        if job["status"] not in ("PENDING", "PROCESSING"):
            if job["status"] != "COMPLETE":
                raise RuntimeError(f"the links report ended {job['status']}: {job}")
            return job
        await asyncio.sleep(0.05)
    raise RuntimeError("the links report did not finish in an hour")


async def _calls(client: httpx.AsyncClient, sandbox_url: str) -> dict[str, int]:
    """The API calls the sandbox counted since _prepare, by platform (not image downloads)."""
    usage = (await client.get(f"{sandbox_url}/_sandbox/usage")).json()
    counted: Counter[str] = Counter()
    for route, calls in usage["calls"].items():
        path = route.partition(" ")[2]
        if path.startswith("/assets/"):
            continue
        platform = next((p for prefix, p in ROUTE_PLATFORMS if path.startswith(prefix)), "other")
        counted[platform] += calls
    return dict(sorted(counted.items()))
