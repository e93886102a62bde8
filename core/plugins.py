"""Commands other packages add to `beat`, so that core imports none of them: each entry point of
the `beat.commands` group names a typer.Typer (added as a command group) or a function (added as
a command) under the entry point's name. The benchmarks and the sandbox come in this way."""

import logging
from collections.abc import Iterable, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import typer

from core.cli_support import UserError

GROUP = "beat.commands"
log = logging.getLogger("beat")


def add_commands(app: typer.Typer, args: Sequence[str],
                 found: Iterable[EntryPoint] | None = None) -> None:
    """Add to `app` the entry points' commands that `args` may run: none for a built-in command,
    only the named one for `beat <name> …`, every one otherwise (help, an unknown name). A name
    already taken stays with its first owner; an entry point that cannot load becomes a command
    that says why in one line."""
    taken = command_names(app)
    wanted = next((arg for arg in args if not arg.startswith("-")), None)
    if wanted in taken:
        return
    points = list(entry_points(group=GROUP) if found is None else found)
    if wanted in {point.name for point in points}:
        points = [point for point in points if point.name == wanted]
    for point in points:
        if point.name in taken:
            log.warning("the %s command of %s is ignored: the name is taken", point.name,
                        point.value)
            continue
        taken.add(point.name)
        _add(app, point)


def command_names(app: typer.Typer) -> set[str]:
    """The names `app` answers to: its commands and its command groups."""
    names = {info.name for info in app.registered_commands if info.name}
    names |= {typer.main.get_command_name(info.callback.__name__)
              for info in app.registered_commands if not info.name and info.callback}
    return names | {info.name for info in app.registered_groups if info.name}


def _add(app: typer.Typer, point: EntryPoint) -> None:
    try:
        loaded: Any = point.load()
    except Exception as exc:  # noqa: BLE001 - a broken plugin says why in one line when run
        lines = str(exc).strip().splitlines()
        _add_unavailable(app, point, type(exc).__name__ + (f": {lines[0]}" if lines else ""))
        return
    if isinstance(loaded, typer.Typer):
        app.add_typer(loaded, name=point.name)
    elif callable(loaded):
        app.command(point.name)(loaded)
    else:
        _add_unavailable(app, point, "neither a typer.Typer nor a function")


def _add_unavailable(app: typer.Typer, point: EntryPoint, reason: str) -> None:
    """A command under the entry point's name that takes any arguments and fails with `reason`."""
    def unavailable() -> None:
        raise UserError(f"the {point.name} command cannot load ({point.value}): {reason}")

    app.command(point.name, help=f"Unavailable: {reason}", add_help_option=False,
                context_settings={"allow_extra_args": True,
                                  "ignore_unknown_options": True})(unavailable)
