"""The `beat` command line: run the service, enqueue and inspect tasks, migrate. Commands from
outside core (`beat bench`, `beat sandbox`) come through entry points: core/plugins.py."""

import json
import logging
import os
import shutil
import sys
from importlib import import_module
from typing import Annotated, Any, TypeVar

import asyncpg
import typer
from pydantic import ValidationError
from rich.console import Console

try:  # typer >= 0.17 carries its own copy of click
    _click_errors = import_module("typer._click.exceptions")
except ImportError:  # pragma: no cover - older typer on click
    _click_errors = import_module("click.exceptions")
NoArgsIsHelpError = _click_errors.NoArgsIsHelpError
UsageError = _click_errors.UsageError

from core import db
from core.analytics_cli import leaderboard_command, timeseries_command
from core.budgets_cli import budgets_command
from core.cli_support import (
    UserError,
    run_async,
    settings_for_credentials,
    settings_with_database,
    with_queue,
)
from core.clickhouse.cli import sink_app
from core.config import ConfigError, Settings, get_settings
from core.console import columns, indented, plural, usage_line
from core.credentials_cli import credentials_app
from core.events_cli import events_app
from core.flows import Flow, load_flows
from core.hashtags.cli import recommend_command, trending_command
from core.logs import setup_logging
from core.ops_cli import OPS_COMMANDS
from core.platforms_cli import links_command, parse_command, platforms_command
from core.plugins import add_commands
from core.queue import NewTask, Status, Task
from core.schedule_cli import schedule_command
from core.watch_cli import watch_app

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Beat: scrape requests for social-media analytics, queued in PostgreSQL.")
app.add_typer(events_app, name="events")
app.add_typer(credentials_app, name="credentials")
app.add_typer(watch_app, name="watch")
app.add_typer(sink_app, name="sink")
app.command("links")(links_command)
app.command("platforms")(platforms_command)
app.command("parse")(parse_command)
app.command("budgets")(budgets_command)
app.command("schedule")(schedule_command)
app.command("trending")(trending_command)
app.command("recommend")(recommend_command)
app.command("timeseries")(timeseries_command)
app.command("leaderboard")(leaderboard_command)
for name, command in OPS_COMMANDS.items():
    app.command(name)(command)
console = Console()
log = logging.getLogger("beat")
T = TypeVar("T")


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
def server(host: Annotated[str | None, typer.Option(
               help="Bind address  [default: SERVER_HOST, 127.0.0.1]")] = None,
           port: Annotated[int | None, typer.Option(
               help="Port  [default: SERVER_PORT, 8000]")] = None,
           workers: Annotated[int, typer.Option(help="Server processes")] = 1) -> None:
    """Run the HTTP API (uvicorn + uvloop)."""
    import uvicorn

    from core.exposure import InsecureBind, check_bind

    host = host or get_settings().server_host
    try:
        check_bind(host, get_settings())
    except InsecureBind as exc:
        raise UserError(str(exc)) from None
    port = port or get_settings().server_port
    _check_port(host, port)
    settings = settings_for_credentials()
    assert settings.database_url
    run_async(lambda: db.check_schema(settings.database_url or ""))
    os.environ["DATABASE_URL"] = settings.database_url
    if workers > 1 and settings.prometheus_multiproc_dir is None:
        _shared_metrics_dir()
    # One process: uvicorn's lines go through Beat's log pipeline (core/logs.py).
    log_config = None if workers == 1 else uvicorn.config.LOGGING_CONFIG
    uvicorn.run("server:create_app", factory=True, host=host,
                port=port, workers=workers, loop="uvloop", log_config=log_config,
                log_level=settings.log_level.lower(), access_log=False)


@app.command()
def worker(flows: Annotated[str | None, typer.Option(
               help="Comma-separated flows  [default: all]")] = None,
           platform: Annotated[str | None, typer.Option(
               help="Only flows of this platform  [default: any]")] = None,
           maintenance: Annotated[bool, typer.Option(help="Run queue upkeep (leader-elected)")]
           = True) -> None:
    """Run the worker supervisor: processes x concurrency per flow, restarts, graceful stop."""
    from core.metrics_exporter import worker_metrics_dir
    from core.supervisor import Supervisor, plan_slots

    # What to run is known before any service is asked: a wrong choice is the first thing said.
    chosen = _chosen_flows(load_flows(get_settings()), flows, platform)
    settings = settings_for_credentials()
    assert settings.database_url
    run_async(lambda: db.check_schema(settings.database_url or ""))
    _platform_startups(settings)
    slots = plan_slots([f for f in chosen if f.processes > 0], settings, maintenance)
    workers = sum(1 for slot in slots if slot.name.startswith("worker-"))
    log.info("supervisor: %s for %s, plus %s",
             plural(workers, "worker process", "worker processes"), plural(len(chosen), "flow"),
             ", ".join(s.name for s in slots if not s.name.startswith("worker-")) or "nothing")
    with worker_metrics_dir(settings):
        Supervisor(slots, settings.worker_shutdown_grace).run()


def _shared_metrics_dir() -> None:
    """A private metrics directory for the server processes, so that /metrics answers the same
    whichever of them serves the scrape; removed at exit."""
    import atexit
    import tempfile
    from pathlib import Path

    from core.metrics import use_dir

    directory = tempfile.mkdtemp(prefix="beat-server-metrics-")
    use_dir(Path(directory))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)


def _chosen_flows(registry: dict[str, Flow], flows: str | None,
                  platform: str | None) -> list[Flow]:
    """The flows `--flows` and `--platform` select; UserError when that is none."""
    chosen = list(registry.values())
    if flows:
        names = [n.strip() for n in flows.split(",") if n.strip()]
        unknown = [n for n in names if n not in registry]
        if unknown:
            raise UserError(f"unknown flows: {', '.join(unknown)} (see `beat flows`)")
        chosen = [registry[n] for n in names]
    if platform:
        chosen = [f for f in chosen if (f.platform or "").upper() == platform.upper()]
        if not chosen:
            raise UserError(f"no flow of platform {platform.upper()} exists yet: nothing to run "
                            "(see `beat flows`)")
    return chosen


def _platform_startups(settings: Settings) -> None:
    """Each platform's start-up work (e.g. importing configured API keys into the credential
    table), once before the worker processes start rather than in each of them."""
    from core.platforms import run_startups

    startups = run_startups(settings)
    if not startups:
        return

    async def run() -> None:
        assert settings.database_url
        pool = await db.create_pool(settings.database_url, max_size=1)
        try:
            for _, startup in startups:
                await startup(settings, pool)
        finally:
            await pool.close()

    run_async(run)


@app.command()
def listen(only: Annotated[str | None, typer.Option(
        help="Comma-separated listeners  [default: all]")] = None) -> None:
    """Consume the AMQP listeners: credentials_validate, identity_token, keyword_collection."""
    from core.consumers import run_consumer_process

    settings = settings_for_credentials()
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
            priority: Annotated[int | None, typer.Option(
                help="Higher runs first  [default: the flow's]")] = None,
            key: Annotated[str | None, typer.Option(help="Idempotency key")] = None,
            account: Annotated[str | None, typer.Option(help="Account id")] = None,
            wait: Annotated[bool, typer.Option(
                "--wait", help="Follow the task to its end with a progress bar; exit 0 when it "
                "completes, 1 otherwise")] = False) -> None:
    """Enqueue one task and print it as JSON (with --wait: once it has finished)."""
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
    task, created = run_async(lambda: with_queue(settings, lambda q: q.enqueue(new)))
    if wait:
        task = _wait_for(settings, task)
    print(json.dumps({"created": created, **task.model_dump(mode="json")}))
    if wait and task.status != Status.COMPLETE:
        print(f"beat: task {task.id} ended {task.status.value}: {task.last_error or 'no error'}",
              file=sys.stderr)
        sys.exit(1)


def _wait_for(settings: Settings, task: Task) -> Task:
    """The task once it has finished, drawn as a progress bar on stderr meanwhile."""
    from core.follow import follow

    try:
        finished = run_async(lambda: with_queue(
            settings, lambda q: follow(q, task, Console(stderr=True))))
    except KeyboardInterrupt:
        raise UserError(f"stopped following task {task.id}; it goes on (`beat task {task.id}` "
                        "shows it)") from None
    if finished is None:
        raise UserError(f"task {task.id} is gone (deleted after its retention)")
    return finished


@app.command("task")
def task_command(task_id: Annotated[int, typer.Argument(help="The task's id", metavar="ID")],
                 as_json: Annotated[bool, typer.Option("--json", help="JSON")] = False) -> None:
    """Show one task: status, attempts, progress, params, last error and result."""
    from core.follow import task_lines

    settings = settings_with_database()
    task = run_async(lambda: with_queue(settings, lambda q: q.get(task_id)))
    if task is None:
        raise UserError(f"no task {task_id}")
    print(task.model_dump_json() if as_json else "\n".join(task_lines(task)))


@app.command("flows")
def flows_command(as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
                  ) -> None:
    """List the registered flows with their settings."""
    settings = get_settings()
    registry = load_flows(settings)
    if as_json:
        for flow in registry.values():
            print(json.dumps(flow.settings()))
        return
    width = shutil.get_terminal_size().columns
    rows = [[f.name, (f.platform or "-").lower(), f"{f.processes} x {f.concurrency}",
             str(f.max_attempts), f"{f.timeout_s:g}s"] for f in registry.values()]
    lines = columns(("flow", "platform", "processes x tasks", "attempts", "timeout"), rows,
                    left=2, width=width)
    print(lines[0])
    for line, flow in zip(lines[1:], registry.values()):
        print(line)
        print("\n".join(indented(flow.description, width - 1)))
    print("\n".join(indented(_process_cap_note(settings), width - 1, indent="")))


def _process_cap_note(settings: Settings) -> str:
    """What `beat up` does to the processes column (it runs every flow on one machine)."""
    what = "processes x tasks: worker processes of the flow, tasks each runs at once."
    if settings.worker_process_cap is not None:
        return (f"{what} Processes are capped at {settings.worker_process_cap} by "
                "WORKER_PROCESS_CAP, for `beat worker` and `beat up` alike.")
    return (f"{what} `beat up` starts 1 process per platform, running all its flows "
            "(WORKER_PROCESSES_PER=platform, WORKER_PROCESS_CAP=1); `beat worker` starts "
            "the number shown.")


@app.command()
def up(host: Annotated[str | None, typer.Option(
           help="API bind address  [default: SERVER_HOST, 127.0.0.1]")] = None,
       port: Annotated[int | None, typer.Option(
           help="API port  [default: SERVER_PORT, 8000]")] = None) -> None:
    """Run everything: server + workers; embedded PostgreSQL/Redis when none is configured."""
    from core.exposure import InsecureBind, check_bind
    from core.services import run_up

    settings = get_settings()
    try:
        check_bind(host or settings.server_host, settings)
        settings.secret_keys()
    except (InsecureBind, ConfigError) as exc:
        raise UserError(str(exc)) from None
    _check_port(host or settings.server_host, port or settings.server_port)
    run_up(settings, host, port)


def _check_port(host: str, port: int) -> None:
    """Refuse before anything starts when the API port is taken."""
    from core.services import PortInUse, check_port

    try:
        check_port(host, port)
    except PortInUse as exc:
        raise UserError(str(exc)) from None


def _plain_help(typer_app: typer.Typer) -> None:
    """Plain help for every command and sub-command: flags without type tags (`<bool>`), defaults
    shown, no boxes (which an 80-column terminal squeezes)."""
    typer_app.rich_markup_mode = None
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _plain_help(group.typer_instance)


def main(argv: list[str] | None = None) -> None:
    from core.platforms import check_settings

    try:
        log_level = get_settings().log_level
        check_settings(get_settings())
    except ConfigError as exc:
        _fail(str(exc), 2)
    setup_logging(log_level)
    add_commands(app, sys.argv[1:] if argv is None else argv)
    _plain_help(app)
    try:
        code = app(args=argv, prog_name="beat", standalone_mode=False)
    except NoArgsIsHelpError as exc:
        print(exc.format_message(), file=sys.stderr)
        sys.exit(2)
    except UsageError as exc:
        path = exc.ctx.command_path if exc.ctx is not None else "beat"
        print(usage_line(path, exc.format_message()), file=sys.stderr)
        sys.exit(2)
    except (UserError, db.SchemaOutOfDate) as exc:
        _fail(str(exc), 2)
    except (OSError, asyncpg.PostgresError) as exc:
        _fail(f"database error: {exc}", 1)
    except (typer.Abort, KeyboardInterrupt):
        _fail("aborted", 130)
    except Exception as exc:  # anything unexpected: one line, no traceback
        if log.isEnabledFor(logging.DEBUG):
            log.exception("failed")
        _fail(f"{type(exc).__name__}: {exc}", 1)
    if isinstance(code, int) and code:  # typer.Exit(code), Ctrl-C at a prompt (130)
        sys.exit(code)


def _fail(message: str, code: int) -> Any:
    from credentials import redact

    print(f"beat: {redact.scrub(message)}", file=sys.stderr)
    sys.exit(code)


if __name__ == "__main__":
    main()
