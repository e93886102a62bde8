"""An embedded ClickHouse (chdb) behind the sink's SnapshotWriter protocol, for the tests: the
same DDL and queries as a real server, rows sent as JSONEachRow."""

import json
from datetime import UTC
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
        lines = "\n".join(json.dumps(_plain(row)) for row in rows)
        self.session.query(f"INSERT INTO {self.database}.{TABLE} ({', '.join(COLUMNS)}) "
                           f"FORMAT JSONEachRow\n{lines}")
        self.inserted.append(len(rows))

    async def aclose(self) -> None:
        pass

    def close(self) -> None:
        self.session.close()


def _plain(row: Row) -> dict[str, Any]:
    return {**row, "event_id": str(row["event_id"]),
            "occurred_at": row["occurred_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")}
