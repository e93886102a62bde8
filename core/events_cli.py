"""`beat events …`: the event stream (the outbox) on the command line."""

import asyncio
from typing import Annotated

import typer

from core import db
from core.cli_support import run_async, settings_with_database

events_app = typer.Typer(no_args_is_help=True, help="The event stream (the outbox).")


@events_app.command("tail")
def events_tail(after: Annotated[str, typer.Option(
                    help="Start after this cursor (an event's `cursor`; 0 for the start)")] = "0",
                follow: Annotated[bool, typer.Option("--follow", "-f",
                                                     help="Keep waiting for new events")] = False,
                ) -> None:
    """Print events as JSON lines, oldest first (each with its cursor)."""
    from core.events import Cursor, InvalidCursor, read_after

    try:
        start = Cursor.parse(after)
    except InvalidCursor as exc:
        raise typer.BadParameter(str(exc), param_hint="'--after'") from None
    settings = settings_with_database()

    async def tail() -> None:
        assert settings.database_url
        await db.check_schema(settings.database_url)
        pool = await db.create_pool(settings.database_url, max_size=1)
        cursor = start
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
