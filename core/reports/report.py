"""One row of the links report and its columns, in order, with the engagement rule."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.lookups import LinkFigures

COLUMNS = ("URL", "platform", "page/channel/author", "followers", "likes", "comments",
           "shares", "views", "engagement", "caption", "date", "thumbnail link", "status")
COUNT_COLUMNS = frozenset({"followers", "likes", "comments", "shares", "views", "engagement"})
DATE_COLUMN = "date"

OK = "ok"
# Status reasons; a status is one of these, or starts with one and ":" (see `reason_of`).
UNSUPPORTED_URL = "unsupported URL"
UNSUPPORTED_PLATFORM = "unsupported platform"
NOT_FOUND = "not found / deleted"
PRIVATE = "private"
NOT_VISIBLE = "not found / deleted or private"  # the only source that answered cannot tell
SOURCE_FAILED = "source failed"
NEEDS_RESOLUTION = "needs resolution"
TIMED_OUT = "timed out"


def engagement(likes: int | None, comments: int | None, shares: int | None) -> int | None:
    """likes + comments + shares. None when all three are unknown; when at least one is known
    the unknown ones count as 0 (YouTube reports no shares: its engagement is likes +
    comments), so the figure is never made up from nothing and never blank beside numbers."""
    known = [value for value in (likes, comments, shares) if value is not None]
    return sum(known) if known else None


@dataclass(frozen=True, slots=True)
class ReportRow:
    url: str
    status: str
    platform: str | None = None
    figures: LinkFigures | None = None

    def values(self) -> list[Any]:
        """The row's cells in COLUMNS order (None for an empty cell)."""
        f = self.figures or LinkFigures()
        return [self.url, self.platform, f.author, f.followers, f.likes, f.comments, f.shares,
                f.views, engagement(f.likes, f.comments, f.shares), f.caption,
                _naive_utc(f.published_at), f.thumbnail_url, self.status]

    @property
    def ok(self) -> bool:
        return self.status == OK or self.status.startswith(OK + " (")


def reason_of(status: str) -> str:
    """The status without its detail: "source failed: HTTP 500" -> "source failed"."""
    if status.startswith(OK):
        return OK
    return status.partition(":")[0]


def _naive_utc(moment: datetime | None) -> datetime | None:
    """Spreadsheets hold no time zones: dates are written in UTC."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
