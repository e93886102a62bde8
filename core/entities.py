"""A platform's entity tables as columns (`Platform.entity_tables`, by kind: "profile", "post",
"comment"), so that core can read what is stored about many entities in one query without
naming a platform: the ClickHouse sink writes them as full snapshots."""

from dataclasses import dataclass

from core.posttext import not_plain


@dataclass(frozen=True, slots=True)
class EntityTable:
    """Columns of one entity table: `key` is the id its events carry as `entity_key` (a text
    column), `metrics` its counts (integers or booleans, read as 0/1), `texts` the texts worth
    keeping beside them, `stored` when the row was last written (set to now() by every write, so
    it equals the `occurred_at` of an event written in the same transaction), `source` the
    source of that write."""

    table: str
    key: str
    metrics: tuple[str, ...]
    texts: tuple[str, ...] = ()
    stored: str = "updated_at"
    source: str = "source"

    def __post_init__(self) -> None:
        names = (self.table, self.key, self.stored, self.source, *self.metrics, *self.texts)
        bad = not_plain(*names)
        if bad or not self.metrics:
            raise ValueError(f"entity table {self.table}: columns must be plain lower-case "
                             f"identifiers, with some metrics ({bad})")

    def rows_sql(self) -> str:
        """The stored rows of the keys in $1 (text[]): key, stored time, source, then the
        metrics and the texts in declaration order."""
        columns = ", ".join(f"t.{c}" for c in (*self.metrics, *self.texts))
        return (f"SELECT t.{self.key}, t.{self.stored}, t.{self.source}, {columns} "
                f"FROM {self.table} AS t WHERE t.{self.key} = ANY($1::text[])")
