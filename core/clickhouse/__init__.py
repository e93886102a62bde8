"""The optional ClickHouse sink: a full snapshot of the entity of each entity event of the
events exchange, written to ClickHouse in batches (ddl.sql holds the table; states.py reads the
entities' rows; sink.py the consumer; `beat sink clickhouse` runs it)."""
