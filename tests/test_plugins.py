"""Commands from outside core come through the `beat.commands` entry points: a typer.Typer
becomes a command group, a function a command, under the entry point's name; one that cannot
load fails in one line when it is run, and the other commands go on working."""

import subprocess
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from core.cli_support import UserError
from core.plugins import GROUP, add_commands

ROOT = Path(__file__).parent.parent

reports = typer.Typer(help="Reports.")


@reports.command()
def daily(day: str = "today") -> None:
    """The daily report."""
    print(f"report for {day}")


def greet(name: str = "world") -> None:
    """Say hello."""
    print(f"hello {name}")


NOT_A_COMMAND = 42


def point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=GROUP)


PLUGINS = [point("reports", "tests.test_plugins:reports"),
           point("greet", "tests.test_plugins:greet"),
           point("broken", "tests.no_such_module:app"),
           point("odd", "tests.test_plugins:NOT_A_COMMAND"),
           point("status", "tests.test_plugins:greet")]


def app_with_plugins(*args: str) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def status() -> None:
        print("built-in status")

    @app.command("flows")
    def flows_command() -> None:
        print("built-in flows")

    add_commands(app, args, PLUGINS)
    return app


def run(app: typer.Typer, *args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output, result.exception


def test_a_typer_becomes_a_group_and_a_function_a_command() -> None:
    app = app_with_plugins()
    assert run(app, "reports", "daily", "--day", "monday")[:2] == (0, "report for monday\n")
    assert run(app, "greet", "--name", "you")[:2] == (0, "hello you\n")
    code, output, _ = run(app, "--help")
    assert code == 0 and all(name in output for name in ("reports", "greet", "broken", "odd"))


def test_a_built_in_name_stays_with_the_built_in_command() -> None:
    assert run(app_with_plugins(), "status")[:2] == (0, "built-in status\n")


@pytest.mark.parametrize("args, says", [
    (["broken", "go", "--help"],
     ("the broken command cannot load (tests.no_such_module:app): ModuleNotFoundError: "
      "No module named 'tests.no_such_module'")),
    (["odd"], ("the odd command cannot load (tests.test_plugins:NOT_A_COMMAND): neither a "
               "typer.Typer nor a function")),
])
def test_a_plugin_that_cannot_load_says_why_when_run(args: list[str], says: str) -> None:
    app = app_with_plugins()
    _, _, error = run(app, *args)
    assert isinstance(error, UserError) and str(error) == says
    assert run(app, "greet")[:2] == (0, "hello world\n")


def test_only_the_plugin_asked_for_is_loaded() -> None:
    assert "reports" not in run(app_with_plugins("greet"), "--help")[1]
    assert run(app_with_plugins("greet"), "greet")[:2] == (0, "hello world\n")
    built_in = app_with_plugins("flows")
    assert [info.name for info in built_in.registered_groups] == []
    assert len(built_in.registered_commands) == 2


def test_bench_sandbox_and_asset_are_entry_points_of_beat() -> None:
    found = {p.name: p.value for p in entry_points(group=GROUP)}
    assert found == {"bench": "bench.cli:bench_app", "sandbox": "sandbox.cli:serve",
                     "asset": "assets.cli:asset"}


@pytest.mark.parametrize("args, says", [
    (["sandbox", "--help"], "Run the local stand-in for the platform APIs"),
    (["bench", "queue", "--help"], "Enqueue N no-op tasks"),
    (["--help"], "bench"),
])
def test_beat_runs_the_entry_point_commands(args: list[str], says: str) -> None:
    result = subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=ROOT, check=False,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert says in result.stdout
