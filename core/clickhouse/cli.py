"""`beat sink clickhouse`: run the ClickHouse sink, or print its DDL."""

from typing import Annotated

import typer

from core.cli_support import UserError
from core.config import get_settings

sink_app = typer.Typer(help="Sinks that copy Beat's events elsewhere", no_args_is_help=True)


@sink_app.command("clickhouse")
def clickhouse_command(ddl: Annotated[bool, typer.Option(
        "--ddl", help="Print the tables' DDL (CLICKHOUSE_DATABASE) and exit")] = False) -> None:
    """Write a full snapshot of the entity of each entity event of AMQP_EXCHANGE to ClickHouse,
    in batches (CLICKHOUSE_BATCH_ROWS rows or CLICKHOUSE_FLUSH_SECONDS); needs AMQP_URL,
    DATABASE_URL and CLICKHOUSE_URL."""
    from core.clickhouse.rows import ddl as statements

    settings = get_settings()
    if ddl:
        print("\n\n".join(f"{s};" for s in statements(settings.clickhouse_database)))
        return
    missing = [name for name, value in (("AMQP_URL", settings.amqp_url),
                                        ("DATABASE_URL", settings.database_url),
                                        ("CLICKHOUSE_URL", settings.clickhouse_url))
               if not value]
    if missing:
        raise UserError(f"the ClickHouse sink needs {', '.join(missing)}")
    from core.clickhouse.sink import run_sink_process

    try:
        run_sink_process(settings)
    except RuntimeError as exc:
        raise UserError(str(exc)) from None
