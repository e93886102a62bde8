"""The optional ClickHouse sink: entity events of `beat.events` written to ClickHouse in
batches (ddl.sql holds the table; sink.py the consumer; `beat sink clickhouse` runs it)."""
