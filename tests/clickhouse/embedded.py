"""An embedded ClickHouse (chdb) behind the sink's SnapshotWriter protocol, for the tests: the
same DDL and queries as a real server, rows sent as JSONEachRow."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chdb import session

from core.clickhouse.rows import COLUMNS, TABLE, Row, ddl


class EmbeddedClickHouse:
    def __init__(self, path: Path, database: str = "beat") -> None:
        self.session = session.Session(str(path))
        self.database = database
        self.inserted: list[int] = []  # rows per insert
        self.refuse = 0  # refuse this many inserts (a server refusing a batch)

    def query(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        answer = self.session.query(sql, "JSONEachRow", params=params or None)
        return [json.loads(line) for line in str(answer).splitlines() if line.strip()]

    async def create_tables(self) -> None:
        for statement in ddl(self.database):
            self.session.query(statement)

    async def insert(self, rows: list[Row]) -> None:
        if self.refuse:
            self.refuse -= 1
            raise ConnectionError("the server refused the batch")
        self.insert_into(self.database, rows)
        self.inserted.append(len(rows))

    def insert_into(self, database: str, rows: list[Row]) -> None:
        lines = "\n".join(json.dumps(_plain(row)) for row in rows)
        self.session.query(f"INSERT INTO {database}.{TABLE} ({', '.join(COLUMNS)}) "
                           f"FORMAT JSONEachRow\n{lines}")

    async def aclose(self) -> None:
        pass

    def close(self) -> None:
        self.session.close()


def _plain(row: Row) -> dict[str, Any]:
    return {**row, "event_id": str(row["event_id"]), "occurred_at": _time(row["occurred_at"]),
            "stored_at": _time(row["stored_at"])}


def _time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
