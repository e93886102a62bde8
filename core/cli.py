"""The `beat` command line: run the service, enqueue and inspect tasks, migrate, benchmark."""

import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import asyncpg
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from core import db
from core.bench.cli import bench_app
from core.config import Settings, get_settings
from core.flows import load_flows
from core.logs import setup_logging
from core.queue import NewTask, Queue, Status

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Beat: scrape requests for social-media analytics, queued in PostgreSQL.")
app.add_typer(bench_app, name="bench")
console = Console()
log = logging.getLogger("beat")
T = TypeVar("T")


class UserError(Exception):
    """An error the user can fix; printed as one line, exit code 2."""


def settings_with_database() -> Settings:
    """Settings whose DATABASE_URL is set: from the environment or from a running `beat up`."""
    settings = get_settings()
    if settings.database_url:
        return settings
    from core.services import running_services

    found = running_services(settings.beat_home)
    if found and found.get("database_url"):
        return settings.model_copy(update={k: v for k, v in found.items() if v})
    raise UserError("DATABASE_URL is not set and no `beat up` is running under "
                    f"{settings.beat_home}: set DATABASE_URL or start `beat up`")


def run_async(factory: Callable[[], Awaitable[T]]) -> T:
    import uvloop

    return uvloop.run(factory())  # type: ignore[arg-type]


async def _with_queue(settings: Settings, job: Callable[[Queue], Awaitable[T]]) -> T:
    assert settings.database_url
    await db.check_schema(settings.database_url)
    pool = await db.create_pool(settings.database_url)
    try:
        return await job(Queue(pool))
    finally:
        await pool.close()


@app.command()
def migrate(sql: Annotated[bool, typer.Option("--sql", help="Print the SQL instead")] = False,
            ) -> None:
    """Apply the database migrations (or print them as SQL: the content of schema.sql)."""
    if sql:
        sys.stdout.write(db.schema_sql())
        return
    settings = settings_with_database()
    assert settings.database_url
    db.migrate(settings.database_url)
    console.print(f"schema at {db.head_revision()}")


@app.command()
def server(host: Annotated[str | None, typer.Option(help="Bind address")] = None,
           port: Annotated[int | None, typer.Option(help="Port")] = None,
           workers: Annotated[int, typer.Option(help="Server processes")] = 1) -> None:
    """Run the HTTP API (uvicorn + uvloop)."""
    import uvicorn

    from core.api.auth import InsecureBind, check_bind

    host = host or get_settings().server_host
    try:
        check_bind(host, get_settings())
    except InsecureBind as exc:
        raise UserError(str(exc)) from None
    settings = settings_with_database()
    assert settings.database_url
    run_async(lambda: db.check_schema(settings.database_url or ""))
    os.environ["DATABASE_URL"] = settings.database_url
    uvicorn.run("server:create_app", factory=True, host=host,
                port=port or settings.server_port, workers=workers, loop="uvloop",
                log_level=settings.log_level.lower(), access_log=False)


@app.command()
def worker(flows: Annotated[str | None, typer.Option(help="Comma-separated flows (default all)")]
           = None,
           platform: Annotated[str | None, typer.Option(help="Only flows of this platform")] = None,
           maintenance: Annotated[bool, typer.Option(help="Run queue upkeep (leader-elected)")]
           = True) -> None:
    """Run the worker supervisor: processes x concurrency per flow, restarts, graceful stop."""
    from core.supervisor import Supervisor, plan_slots

    settings = settings_with_database()
    assert settings.database_url
    run_async(lambda: db.check_schema(settings.database_url or ""))
    registry = load_flows(settings)
    chosen = list(registry.values())
    if flows:
        names = [n.strip() for n in flows.split(",") if n.strip()]
        unknown = [n for n in names if n not in registry]
        if unknown:
            raise UserError(f"unknown flows: {', '.join(unknown)} (see `beat flows`)")
        chosen = [registry[n] for n in names]
    if platform:
        chosen = [f for f in chosen if (f.platform or "").upper() == platform.upper()]
    slots = plan_slots([f for f in chosen if f.processes > 0], settings, maintenance)
    workers = sum(1 for slot in slots if slot.name.startswith("worker-"))
    log.info("supervisor: %d worker processes for %d flows, plus %s", workers, len(chosen),
             ", ".join(s.name for s in slots if not s.name.startswith("worker-")) or "nothing")
    Supervisor(slots, settings.worker_shutdown_grace).run()


@app.command()
def listen(only: Annotated[str | None, typer.Option(
        help="Comma-separated listeners (default all)")] = None) -> None:
    """Consume the AMQP listeners: credentials_validate, identity_token, keyword_collection."""
    from core.consumers import run_consumer_process

    settings = settings_with_database()
    if not settings.amqp_url:
        raise UserError("AMQP_URL is not set: the listeners consume from RabbitMQ")
    run_async(lambda: db.check_schema(settings.database_url or ""))
    names = [n.strip() for n in only.split(",") if n.strip()] if only else None
    try:
        run_consumer_process(settings, names)
    except ValueError as exc:
        raise UserError(str(exc)) from None


@app.command()
def enqueue(flow: str,
            params: Annotated[str, typer.Option(help="Params as a JSON object")] = "{}",
            priority: Annotated[int | None, typer.Option(help="Higher runs first")] = None,
            key: Annotated[str | None, typer.Option(help="Idempotency key")] = None,
            account: Annotated[str | None, typer.Option(help="Account id")] = None) -> None:
    """Enqueue one task and print it as JSON."""
    settings = settings_with_database()
    registry = load_flows(settings)
    if flow not in registry:
        raise UserError(f"unknown flow {flow!r} (see `beat flows`)")
    try:
        parsed = registry[flow].params_model.model_validate_json(params)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "params"
        raise UserError(f"invalid params for {flow}: {where}: {first['msg']}") from None
    spec = registry[flow]
    new = NewTask(flow=flow, params=parsed.model_dump(mode="json", exclude_unset=True),
                  platform=spec.platform, priority=spec.priority if priority is None else priority,
                  idempotency_key=key, account_id=account, max_attempts=spec.max_attempts)
    task, created = run_async(lambda: _with_queue(settings, lambda q: q.enqueue(new)))
    print(json.dumps({"created": created, **task.model_dump(mode="json")}))


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False) -> None:
    """Queue depth, age and throughput per flow (the queue_stats view)."""
    settings = settings_with_database()
    rows = run_async(lambda: _with_queue(settings, lambda q: q.stats()))
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return
    table = Table("flow", "pending", "processing", "failed (1h)", "oldest pending",
                  "completed/min", title="queue")
    for row in rows:
        table.add_row(row["flow"], str(row["pending"]), str(row["processing"]),
                      str(row["failed_last_hour"]), f"{row['oldest_pending_age_s']:.1f}s",
                      str(row["completed_per_minute"]))
    console.print(table if rows else "queue is empty")


@app.command()
def requeue(status: Annotated[Status, typer.Option(help="Tasks in this status")] = Status.FAILED,
            flow: Annotated[str | None, typer.Option(help="Only this flow")] = None) -> None:
    """Put finished tasks (FAILED by default) back to PENDING with all their attempts."""
    if status in (Status.PENDING, Status.PROCESSING):
        raise UserError("requeue takes a finished status (FAILED, TIMEOUT, EXPIRED, ...)")
    settings = settings_with_database()
    count = run_async(lambda: _with_queue(settings, lambda q: q.requeue_where(status, flow)))
    console.print(f"requeued {count} tasks")


@app.command("flows")
def flows_command(as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
                  ) -> None:
    """List the registered flows with their settings."""
    registry = load_flows(get_settings())
    if as_json:
        for flow in registry.values():
            print(json.dumps(flow.settings()))
        return
    table = Table("flow", "platform", "processes", "concurrency", "max attempts", "timeout",
                  "description")
    for f in registry.values():
        table.add_row(f.name, f.platform or "-", str(f.processes), str(f.concurrency),
                      str(f.max_attempts), f"{f.timeout_s:g}s", f.description)
    console.print(table)


events_app = typer.Typer(no_args_is_help=True, help="The event stream (the outbox).")
app.add_typer(events_app, name="events")


@events_app.command("tail")
def events_tail(after: Annotated[int, typer.Option(help="Start after this cursor")] = 0,
                follow: Annotated[bool, typer.Option("--follow", "-f",
                                                     help="Keep waiting for new events")] = False,
                ) -> None:
    """Print events as JSON lines, oldest first (each with its cursor)."""
    from core.events import read_after

    settings = settings_with_database()

    async def tail() -> None:
        assert settings.database_url
        await db.check_schema(settings.database_url)
        pool = await db.create_pool(settings.database_url, max_size=1)
        cursor = after
        try:
            while True:
                found, cursor = await read_after(pool, cursor, 500)
                for event in found:
                    print(event.model_dump_json(), flush=True)
                if not found and not follow:
                    return
                if not found:
                    await asyncio.sleep(0.2)
        finally:
            await pool.close()

    run_async(tail)


@app.command()
def parse(file: Annotated[Path, typer.Argument(help="A raw API response (JSON)")],
          platform: Annotated[str, typer.Option(help="youtube, ...")] = "youtube") -> None:
    """Print each entity of a raw API response as one normalized JSON line."""
    from core.parsing import UnknownShape, parse_document

    try:
        document = json.loads(file.read_text())
    except OSError as exc:
        raise UserError(f"cannot read {file}: {exc.strerror}") from None
    except ValueError as exc:
        raise UserError(f"{file} is not JSON: {exc}") from None
    try:
        entities = parse_document(platform.lower(), document)
    except UnknownShape as exc:
        raise UserError(f"{file}: {exc}") from None
    for entity in entities:
        print(json.dumps(entity.line()))


@app.command()
def sandbox(host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
            port: Annotated[int, typer.Option(help="Port")] = 8900,
            seed: Annotated[int, typer.Option(help="World seed (same seed, same data)")] = 1,
            quota: Annotated[int | None, typer.Option(help="Daily units per API key")] = None,
            latency_ms: Annotated[float, typer.Option(help="Added to every call")] = 0.0,
            error_rate: Annotated[float, typer.Option(help="Share of calls answered 503")] = 0.0,
            ) -> None:
    """Run the local stand-in for the platform APIs (YouTube Data API v3, Invidious)."""
    from core.services import SANDBOX_KEYS
    from sandbox.faults import Faults
    from sandbox.server import run

    keys = None if quota is None else {k: quota for k in SANDBOX_KEYS}
    run(host, port, seed, keys, Faults(latency_ms=latency_ms, error_rate=error_rate))


@app.command()
def up(host: Annotated[str | None, typer.Option(help="API bind address")] = None,
       port: Annotated[int | None, typer.Option(help="API port")] = None) -> None:
    """Run everything: server + workers; embedded PostgreSQL/Redis when none is configured."""
    from core.api.auth import InsecureBind, check_bind
    from core.services import run_up

    settings = get_settings()
    try:
        check_bind(host or settings.server_host, settings)
    except InsecureBind as exc:
        raise UserError(str(exc)) from None
    run_up(settings, host, port)


def main(argv: list[str] | None = None) -> None:
    setup_logging(get_settings().log_level)
    try:
        app(args=argv, standalone_mode=False)
    except (UserError, db.SchemaOutOfDate) as exc:
        _fail(str(exc), 2)
    except (OSError, asyncpg.PostgresError) as exc:
        _fail(f"database error: {exc}", 1)
    except (typer.Abort, KeyboardInterrupt):
        _fail("aborted", 130)
    except Exception as exc:  # click usage errors and anything unexpected: one line, no traceback
        from click import ClickException

        if isinstance(exc, ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if log.isEnabledFor(logging.DEBUG):
            log.exception("failed")
        _fail(f"{type(exc).__name__}: {exc}", 1)


def _fail(message: str, code: int) -> Any:
    print(f"beat: {message}", file=sys.stderr)
    sys.exit(code)


if __name__ == "__main__":
    # Run the imported module's main, so that errors raised by sub-apps (which import core.cli)
    # are the classes main() catches, not copies from a second module named __main__.
    from core.cli import main as imported_main

    imported_main()
