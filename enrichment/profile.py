"""What a prompt is told about an Instagram account: its stored row and newest posts, read
through the Instagram platform's lookups from the registry (this package imports no platform),
and the comments on those posts, read from the stored comment table (no lookup gives them).
Nothing is fetched from Instagram here: a profile that is not stored fails the task, saying
which flow stores it."""

from dataclasses import dataclass
from typing import Any

import asyncpg

from core.config import Settings
from core.errors import NotFound, Permanent
from core.lookups import InvalidId, Lookups
from core.platforms import registry

PLATFORM = "instagram"
CAPTION_CHARS = 600  # of each caption: the start says what a post is about
COMMENT_CHARS = 200
COMMENTS = """
SELECT post_id, text FROM instagram_comment
 WHERE post_id = ANY($1::text[]) AND text IS NOT NULL AND text <> ''
 ORDER BY likes DESC NULLS LAST, published_at DESC NULLS LAST, comment_id
 LIMIT $2
"""


@dataclass(frozen=True)
class StoredProfile:
    profile_id: str
    handle: str
    full_name: str
    bio: str
    captions: list[str]
    comments: list[str]

    def values(self) -> dict[str, str]:
        """The prompt templates' placeholders."""
        return {"handle": self.handle, "full_name": self.full_name or "(none)",
                "bio": self.bio or "(none)",
                "captions": _lines(self.captions, "(no posts stored)"),
                "comments": _lines(self.comments, "(no comments stored)")}


def lookups(settings: Settings) -> Lookups:
    platform = registry(settings).get(PLATFORM)
    found = platform.load_lookups() if platform else None
    if found is None or found.profile_by_handle is None or found.recent_posts is None:
        raise Permanent("the instagram platform is not registered (or cannot look up "
                        "profiles and their posts)")
    return found


async def read_profile(pool: asyncpg.Pool, settings: Settings, handle: str, posts: int,
                       comments: int) -> StoredProfile:
    found = lookups(settings)
    assert found.profile_by_handle is not None and found.recent_posts is not None
    try:
        account = await found.profile_by_handle(handle).fetch(pool)
    except InvalidId as exc:
        raise Permanent(str(exc)) from None
    if account is None:
        raise NotFound(f"instagram profile {handle!r} is not stored: refresh it first "
                       "(refresh_profile_by_handle)")
    items: list[dict[str, Any]] = []
    if posts:
        items, _ = await found.recent_posts(str(account["profile_id"]), posts).page(
            pool, None, posts)
    texts = [] if not items or not comments else await pool.fetch(
        COMMENTS, [item["post_id"] for item in items], comments)
    return StoredProfile(
        profile_id=str(account["profile_id"]), handle=str(account["handle"]),
        full_name=account.get("full_name") or "", bio=account.get("biography") or "",
        captions=[_clip(item["caption"], CAPTION_CHARS) for item in items if item.get("caption")],
        comments=[_clip(row["text"], COMMENT_CHARS) for row in texts])


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _lines(texts: list[str], empty: str) -> str:
    return "\n".join(f"- {text}" for text in texts) if texts else empty
