"""`beat bench …`: the benchmark commands, a typer sub-app `beat` finds through the
`beat.commands` entry point group (pyproject.toml).

Each benchmark prints one line per measured system (JSON with --json).
"""

import json
from typing import Annotated

import typer

from core.cli_support import UserError, settings_with_database
from core.config import get_settings

bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks; each prints JSON lines.")


@bench_app.command("queue")
def bench_queue(jobs: Annotated[int, typer.Option(help="No-op jobs to drain")] = 200_000,
                as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
                against: Annotated[str, typer.Option(help="Peers: pgqueuer,procrastinate")] = "",
                processes: Annotated[int, typer.Option(help="Beat worker processes")] = 2,
                finished_rows: Annotated[int, typer.Option(
                    help="Finished rows to add to the table first (claim speed check)")] = 0,
                repeat: Annotated[int, typer.Option(
                    min=1, help="Runs per system, Beat and peers alternating; lines give "
                                "the median")] = 3,
                ) -> None:
    """Enqueue N no-op tasks and drain them with the real worker runtime, `repeat` times per
    system; print one line per system with the median of its runs."""
    from bench.queue_bench import run_queue_bench

    settings = settings_with_database()
    peers = [p.strip() for p in against.split(",") if p.strip()]
    for line in run_queue_bench(settings, jobs, peers, processes, finished_rows,
                                repeat):
        print(json.dumps(line) if as_json else line, flush=True)


@bench_app.command("scrape")
def bench_scrape(platform: Annotated[str, typer.Option(help="Platform")] = "youtube",
                 items: Annotated[int, typer.Option(help="Videos or profiles to refresh")] = 2000,
                 as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
                 processes: Annotated[int, typer.Option(help="Worker processes")] = 2,
                 latency_ms: Annotated[float, typer.Option(help="Sandbox latency per call")]
                 = 50.0,
                 repeat: Annotated[int, typer.Option(
                     min=1, help="Runs per system, Beat and bare alternating; lines give "
                                 "the median")] = 3) -> None:
    """Refresh N videos (YouTube) or profiles with their recent posts (Instagram) through
    server + workers against the sandbox, and the bare ceiling,
    `repeat` times each; print one line per system with the median of its runs."""

    if platform.lower() == "youtube":
        from bench.scrape_bench import run_scrape_bench as run
    elif platform.lower() == "instagram":
        from bench.instagram_bench import run_instagram_bench as run
    else:
        raise UserError(f"no scrape benchmark for {platform!r} (youtube, instagram)")
    settings = settings_with_database()
    for line in run(settings, items, processes, latency_ms, repeat):
        print(json.dumps(line) if as_json else line, flush=True)


@bench_app.command("links")
def bench_links(urls: Annotated[int, typer.Option(help="Post URLs in the report")] = 2000,
                as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
                processes: Annotated[int, typer.Option(help="Worker processes per refresh flow")]
                = 2,
                latency_ms: Annotated[float, typer.Option(help="Sandbox latency per call")]
                = 50.0,
                repeat: Annotated[int, typer.Option(
                    min=1, help="Timed reports; the line gives the median")] = 3,
                thumbnails: Annotated[bool, typer.Option(
                    help="Store the thumbnails too (the assets flow runs beside the refresh "
                         "flows)")] = True) -> None:
    """One links report of N post URLs (YouTube, Instagram, Facebook, X; ~10% duplicates)
    through server + workers against the sandbox, timed from POST /links to COMPLETE; print
    the rate, ok rows, thumbnails stored and the upstream calls per link."""
    from bench.links_bench import run_links_bench

    settings = settings_with_database()
    try:
        lines = run_links_bench(settings, urls, processes, latency_ms, repeat, thumbnails)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    for line in lines:
        print(json.dumps(line) if as_json else line, flush=True)


@bench_app.command("ratelimit")
def bench_ratelimit(processes: Annotated[int, typer.Option(help="Client processes")] = 8,
                    seconds: Annotated[float, typer.Option(help="Seconds per system")] = 10.0,
                    as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
                    ) -> None:
    """Beat's one-round-trip stacked limiter against nested asyncio-redis-rate-limit."""
    from bench.ratelimit_bench import run_ratelimit_bench

    settings = get_settings()
    if not settings.redis_url:
        raise UserError("REDIS_URL is not set: the rate limit benchmark needs a Redis")
    for line in run_ratelimit_bench(settings.redis_url, processes, seconds):
        print(json.dumps(line) if as_json else line, flush=True)


@bench_app.command("hashtags")
def bench_hashtags(posts: Annotated[int, typer.Option(help="Posts recorded")] = 100_000,
                   vocabulary: Annotated[int, typer.Option(help="Distinct hashtags")] = 20_000,
                   as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
                   ) -> None:
    """Trending hashtags in Redis: posts recorded per second, and the hour and day windows and
    the 24-hour fastest-growing report read (p50, p95)."""
    from bench.hashtags_bench import run_hashtags_bench

    settings = get_settings()
    if not settings.redis_url:
        raise UserError("REDIS_URL is not set: the hashtags benchmark needs a Redis")
    line = run_hashtags_bench(settings.redis_url, posts, vocabulary)
    print(json.dumps(line) if as_json else line, flush=True)


@bench_app.command("events")
def bench_events(events: Annotated[int, typer.Option(help="Events per system")] = 20_000,
                 as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
                 ) -> None:
    """Beat's outbox relay against a bare confirmed aio-pika publisher (local RabbitMQ)."""
    from bench.events_bench import run_events_bench

    settings = settings_with_database()
    if not settings.amqp_url:
        raise UserError("AMQP_URL is not set: the events benchmark needs a RabbitMQ")
    for line in run_events_bench(settings, events):
        print(json.dumps(line) if as_json else line, flush=True)


@bench_app.command("assets")
def bench_assets(images: Annotated[int, typer.Option(help="Sandbox images to store (1-500)")]
                 = 200,
                 as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
                 processes: Annotated[int, typer.Option(help="Assets worker processes")] = 2,
                 concurrency: Annotated[int, typer.Option(help="Downloads per process")] = 5,
                 ) -> None:
    """Store N sandbox images (JPEG/PNG/WebP, 100 KB-2 MB) with the assets worker, then with
    the seed's 30-thread pool; print images/s and the bytes saved for each."""
    from bench.assets_bench import run_assets_bench

    settings = settings_with_database()
    try:
        lines = run_assets_bench(settings, images, processes, concurrency)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    for line in lines:
        print(json.dumps(line) if as_json else line, flush=True)


@bench_app.command("hosts")
def bench_hosts(tasks: Annotated[int, typer.Option(help="No-op tasks to drain per run")] = 20_000,
                as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
                hosts: Annotated[str, typer.Option(help="Host counts to measure")] = "1,2,3",
                processes: Annotated[int, typer.Option(help="Worker processes per host")] = 2,
                repeat: Annotated[int, typer.Option(
                    min=1, help="Runs per host count, alternating; the line gives medians")]
                = 1) -> None:
    """Drain N no-op tasks with 1, 2 and 3 worker hosts, each in its own network namespace
    (needs root), against the one database; print one line with each count's rate and the
    connections to PostgreSQL the hosts opened."""
    from bench.hosts_bench import run_hosts_bench
    from bench.netns import NotRoot

    settings = settings_with_database()
    try:
        counts = [int(n) for n in hosts.split(",") if n.strip()]
        line = run_hosts_bench(settings, tasks, counts, processes, repeat)
    except (NotRoot, ValueError) as exc:
        raise UserError(str(exc)) from exc
    print(json.dumps(line) if as_json else line, flush=True)


@bench_app.command("schedule")
def bench_schedule(items: Annotated[int, typer.Option(
                       min=50, help="Watched videos (and a twentieth as many channels)")
                   ] = 10_000,
                   as_json: Annotated[bool, typer.Option("--json", help="One JSON line")]
                   = False,
                   days: Annotated[int, typer.Option(min=1, max=28, help="Simulated days")]
                   = 7,
                   latency_ms: Annotated[float, typer.Option(
                       help="Sandbox latency per YouTube call")] = 0.0,
                   baseline: Annotated[bool, typer.Option(
                       help="Also run the round-robin baseline")] = True) -> None:
    """A simulated week keeping a YouTube watchlist fresh on 60% of the quota it needs:
    Beat's refresh scheduler and a round-robin baseline; one line with the quota used per day
    (the sandbox's counter), the weighted and top-20% fresh shares."""
    from bench.schedule_bench import run_schedule_bench

    settings = settings_with_database()
    if not settings.redis_url:
        raise UserError("REDIS_URL is not set: the scheduler reads the limiter's budgets")
    try:
        found = run_schedule_bench(settings, items, days, latency_ms, baseline=baseline)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    print(json.dumps(found) if as_json else found, flush=True)


@bench_app.command("leaderboard")
def bench_leaderboard(
        profiles: Annotated[int, typer.Option(min=1, help="Profiles to generate")] = 500_000,
        days: Annotated[int, typer.Option(min=15, max=59,
                                          help="Daily snapshots per profile")] = 30,
        reads: Annotated[int, typer.Option(min=10, help="Random boards read")] = 1000,
        as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False) -> None:
    """Generate N profiles with D daily snapshots in a scratch database, time the leaderboard
    view's concurrent refresh, and the latency of leaderboard pages and time series read
    through the HTTP API; print one line."""
    from bench.leaderboard_bench import run_leaderboard_bench
    from bench.scratch import rounded

    line = rounded(run_leaderboard_bench(settings_with_database(), profiles, days, reads))
    print(json.dumps(line) if as_json else line, flush=True)
