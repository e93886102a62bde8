"""The platform-neutral view of a scraped item: what `beat parse` prints and reports read.

Missing stays None, never 0: a count the source did not give is unknown, not zero.
"""

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, field_serializer

Kind = Literal["post", "profile"]


class Normalized(BaseModel):
    platform: str
    kind: Kind
    id: str | None  # None when the answer does not carry the item's id
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    views: int | None = None
    followers: int | None = None
    caption: str | None = None
    published_at: datetime | None = None
    author: str | None = None
    source: str | None = None

    @field_serializer("published_at")
    def _utc(self, value: datetime | None) -> str | None:
        """ISO-8601 in UTC with a Z, seconds precision: 2019-03-21T20:37:49Z."""
        if value is None:
            return None
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def line(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


MAX_COUNT = 2**63 - 1  # what a bigint column holds


def to_int(value: Any) -> int | None:
    """Counts arrive as strings in some APIs ("7920"); None and "" stay None. A count no bigint
    holds is a malformed answer (OverflowError), not one to fail the store with later."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError(f"not a count: {value!r}")
    count = int(value)
    if abs(count) > MAX_COUNT:
        raise OverflowError(f"not a count: {count} is out of range")
    return count


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 timestamp ("2019-03-21T20:37:49Z", with or without fraction) as aware UTC."""
    if value in (None, ""):
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
