"""Where the sink's batches go: a `SnapshotWriter`. `ClickHouseWriter` is the real one
(clickhouse-connect over HTTP, installed with the `clickhouse` extra); tests use an embedded
ClickHouse behind the same protocol."""

import asyncio
from typing import Any, Protocol

from core.clickhouse.rows import COLUMNS, TABLE, Row, ddl


class SnapshotWriter(Protocol):
    async def create_tables(self) -> None: ...

    async def insert(self, rows: list[Row]) -> None: ...

    async def aclose(self) -> None: ...


class ClickHouseWriter:
    """One clickhouse-connect client (synchronous: its calls run in a thread). The URL is the
    server's HTTP interface, e.g. `http://beat:secret@clickhouse:8123` (`https://` on 8443)."""

    def __init__(self, url: str, database: str) -> None:
        try:
            import clickhouse_connect
        except ImportError:
            raise RuntimeError("the ClickHouse sink needs clickhouse-connect: "
                               "pip install 'beat[clickhouse]'") from None
        self.database = database
        self._connect = lambda: clickhouse_connect.get_client(dsn=url)
        self._client: Any = None

    async def create_tables(self) -> None:
        """Connect (the client checks the server at once) and create what is missing."""
        if self._client is None:
            self._client = await asyncio.to_thread(self._connect)
        for statement in ddl(self.database):
            await asyncio.to_thread(self._client.command, statement)

    async def insert(self, rows: list[Row]) -> None:
        data = [[row[column] for column in COLUMNS] for row in rows]
        await asyncio.to_thread(self._client.insert, TABLE, data, column_names=list(COLUMNS),
                                database=self.database)

    async def aclose(self) -> None:
        if self._client is not None:
            await asyncio.to_thread(self._client.close)
