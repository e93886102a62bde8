"""Instagram flows (names from the seed): profiles by handle or id (with recent posts and the
averages over them), insights and audience, posts by shortcode and their insights, stories,
and the paginated listings — followers, following, comments, likers, hashtag and tagged posts —
which resume from their checkpoint after a crash. Each returns a small JSON result."""

import json
import re
from typing import Any, Literal

from pydantic import Field, model_validator

from core.errors import NotFound, Permanent
from core.flows import StrictParams, TaskContext, flow
from instagram.models import PLATFORM as NAME
from instagram.models import Account, Comment, Post
from instagram.refresh import (
    director_of,
    instagram_of,
    refresh_profile,
    refresh_recent_posts,
    stored_post,
    stored_profile,
    walk_pages,
)
from instagram.store import (
    fetch_one,
    insights_json,
    save_comments,
    save_likers,
    save_links,
    save_posts,
    save_profiles,
    save_relationships,
)

PLATFORM = NAME.upper()  # "INSTAGRAM": the spelling of tasks and the API
HANDLE = r"^@?[A-Za-z0-9._]{1,30}$"
SHORTCODE = r"^[A-Za-z0-9_-]{5,64}$"
NUMERIC_ID = r"^[0-9]{1,25}$"
PROFILE_FIELDS = ("profile_id", "handle", "full_name", "biography", "website", "followers",
                  "following", "media_count", "profile_pic_url", "profile_type", "is_private",
                  "is_verified", "is_business_or_creator", "category", "fbid")
AVERAGES = ("avg_likes", "avg_comments", "avg_reach", "avg_engagement", "avg_reels_plays")
CUSTOM_FIELDS = (*PROFILE_FIELDS, *AVERAGES, "recent_posts")


def _handle(value: str) -> str:
    return value.lstrip("@")


class HandleParams(StrictParams):
    handle: str = Field(pattern=HANDLE)
    posts: int = Field(default=12, ge=0, le=50, description="recent posts to store and average")


class CustomParams(StrictParams):
    handle: str = Field(pattern=HANDLE)
    fields: list[str] = Field(min_length=1, max_length=len(CUSTOM_FIELDS),
                              description="any of: " + ", ".join(CUSTOM_FIELDS))

    @model_validator(mode="after")
    def _known(self) -> "CustomParams":
        unknown = [f for f in self.fields if f not in CUSTOM_FIELDS]
        if unknown:
            raise ValueError(f"unknown fields {unknown}; known: {', '.join(CUSTOM_FIELDS)}")
        return self


class BasicParams(StrictParams):
    handle: str = Field(pattern=HANDLE)


class ProfileIdParams(StrictParams):
    profile_id: str = Field(pattern=NUMERIC_ID)
    posts: int = Field(default=0, ge=0, le=50, description="recent posts to store and average")


class AccountParams(StrictParams):
    """One account, by handle or by id."""

    handle: str | None = Field(default=None, pattern=HANDLE)
    profile_id: str | None = Field(default=None, pattern=NUMERIC_ID)

    @model_validator(mode="after")
    def _one(self) -> "AccountParams":
        if not self.handle and not self.profile_id:
            raise ValueError("give handle or profile_id")
        return self


class ListingParams(AccountParams):
    max_items: int = Field(default=1000, ge=1, le=10_000_000)


class ShortcodeParams(StrictParams):
    shortcode: str = Field(pattern=SHORTCODE)


class PostParams(StrictParams):
    """One post, by shortcode or by media id."""

    shortcode: str | None = Field(default=None, pattern=SHORTCODE)
    post_id: str | None = Field(default=None, pattern=NUMERIC_ID)

    @model_validator(mode="after")
    def _one(self) -> "PostParams":
        if not self.shortcode and not self.post_id:
            raise ValueError("give shortcode or post_id")
        return self


class PostListingParams(PostParams):
    max_items: int = Field(default=1000, ge=1, le=1_000_000)


class StoryParams(StrictParams):
    story_id: str = Field(pattern=NUMERIC_ID)


class StoriesParams(AccountParams):
    """An account's live stories; with `story_id`, the task fails as not found when that story
    is not among them (a story lives 24 hours)."""

    story_id: str | None = Field(default=None, pattern=NUMERIC_ID)


class HashtagParams(StrictParams):
    hashtag: str = Field(min_length=1, max_length=100)
    tab: Literal["top", "recent"] = "top"
    max_items: int = Field(default=100, ge=1, le=10_000)

    @model_validator(mode="after")
    def _tag(self) -> "HashtagParams":
        self.hashtag = self.hashtag.lstrip("#").lower()
        if not re.fullmatch(r"\w+", self.hashtag):
            raise ValueError("a hashtag is letters, digits and _")
        return self


async def _account(ctx: TaskContext, params: AccountParams) -> dict[str, Any]:
    """The stored account the params name (fetched first when not stored)."""
    return await stored_profile(instagram_of(ctx), ctx.pool,
                                params.handle and _handle(params.handle), params.profile_id)


def _summary(row: dict[str, Any], source: str, posts: int) -> dict[str, Any]:
    return {"profile_id": row["profile_id"], "handle": row["handle"], "source": source,
            "posts": posts, **{name: row.get(name) for name in AVERAGES}}


@flow("refresh_profile_by_handle", HandleParams, platform=PLATFORM, processes=10, concurrency=5)
async def refresh_profile_by_handle(params: HandleParams, ctx: TaskContext) -> dict[str, Any]:
    """A profile and its recent posts (one Graph API call), with the averages over them."""
    row, got = await refresh_profile(instagram_of(ctx), _handle(params.handle),
                                     params.posts)
    return _summary(row, got.source, len(got.value.posts))


@flow("refresh_profile_custom", CustomParams, platform=PLATFORM, processes=3, concurrency=5)
async def refresh_profile_custom(params: CustomParams, ctx: TaskContext) -> dict[str, Any]:
    """A profile refreshed and answered with only the fields the caller names."""
    wants_posts = "recent_posts" in params.fields or any(f in AVERAGES for f in params.fields)
    row, got = await refresh_profile(instagram_of(ctx), _handle(params.handle),
                                     12 if wants_posts else 0)
    answer: dict[str, Any] = {"source": got.source}
    for name in params.fields:
        if name == "recent_posts":
            answer[name] = [p.model_dump(mode="json", exclude={"source"})
                            for p in got.value.posts]
        else:
            answer[name] = row.get(name)
    return answer


@flow("refresh_profile_basic", BasicParams, platform=PLATFORM, processes=3, concurrency=5)
async def refresh_profile_basic(params: BasicParams, ctx: TaskContext) -> dict[str, Any]:
    """The profile alone: counts and attributes, no posts."""
    row, got = await refresh_profile(instagram_of(ctx), _handle(params.handle), 0)
    return {"profile_id": row["profile_id"], "handle": row["handle"], "source": got.source,
            "followers": row["followers"]}


@flow("refresh_profile_by_profile_id", ProfileIdParams, platform=PLATFORM, processes=5,
      concurrency=5)
async def refresh_profile_by_profile_id(params: ProfileIdParams,
                                        ctx: TaskContext) -> dict[str, Any]:
    """A profile by its Instagram user id (and its recent posts, when `posts` asks); the
    Graph API answers for an account stored with its Graph id."""
    director = director_of(ctx)
    known = await fetch_one(ctx.pool, "account_by_profile_id", params.profile_id)
    got = await director.fetch("profile_by_id", target=params.profile_id,
                               profile_id=params.profile_id,
                               graph_id=known["graph_id"] if known else None)
    [row] = await save_profiles(ctx.pool, [got.value])
    posts = 0
    if params.posts:
        row, posts = await refresh_recent_posts(instagram_of(ctx), got.value, params.posts)
    return _summary(row, got.source, posts)


@flow("refresh_profile_insights", AccountParams, platform=PLATFORM, processes=3, concurrency=5)
async def refresh_profile_insights(params: AccountParams, ctx: TaskContext) -> dict[str, Any]:
    """The account's insights (reach, impressions, ...) and audience demographics (Graph API:
    the token's own account or one it manages)."""
    director = director_of(ctx)
    row = await _account(ctx, params)
    profile_id = row["profile_id"]
    graph_id = row["graph_id"] or profile_id  # insights are the Graph API's alone
    insights = await director.fetch("profile_insights", profile_id=graph_id)
    audience = await director.fetch("audience_insights", profile_id=graph_id)
    await fetch_one(ctx.pool, "save_insights", profile_id, insights_json(insights.value),
                    insights.source)
    await fetch_one(ctx.pool, "save_audience", profile_id, insights_json(audience.value),
                    audience.source)
    return {"profile_id": profile_id, "insights": len(insights.value),
            "audience": len(audience.value), "source": insights.source}


@flow("refresh_post_by_shortcode", ShortcodeParams, platform=PLATFORM, processes=3,
      concurrency=5)
async def refresh_post_by_shortcode(params: ShortcodeParams, ctx: TaskContext) -> dict[str, Any]:
    """One post (or reel) by the shortcode of its URL."""
    got = await director_of(ctx).fetch("post_by_shortcode", shortcode=params.shortcode)
    await save_posts(ctx.pool, [got.value])
    return {"post_id": got.value.post_id, "shortcode": got.value.shortcode,
            "source": got.source}


async def _save_insights(ctx: TaskContext, stored_id: str, capability: str,
                         **params: Any) -> dict[str, Any]:
    got = await director_of(ctx).fetch(capability, **params)
    figures = {i.name: i.value for i in got.value}
    named = ("reach", "impressions", "saved", "shares", "plays")
    values = [int(v) if isinstance(v := figures.get(n), (int, float)) else None for n in named]
    sources = {n: got.source for n, v in zip(named, values) if v is not None}
    await fetch_one(ctx.pool, "save_post_insights", stored_id, insights_json(got.value),
                    *values, json.dumps(sources))
    return {"post_id": stored_id, "insights": figures, "source": got.source}


@flow("refresh_post_insights", PostParams, platform=PLATFORM, processes=3, concurrency=5)
async def refresh_post_insights(params: PostParams, ctx: TaskContext) -> dict[str, Any]:
    """A post's insights: reach, impressions, saved, shares, plays (Graph API, own media)."""
    row = await stored_post(director_of(ctx), ctx.pool, params.shortcode, params.post_id)
    if row["graph_id"] is None:
        raise Permanent(f"Instagram post {row['post_id']} has no Graph API id: insights come "
                        "from the Graph API alone, for media of accounts it can read (refresh "
                        "the account through the Graph API first)")
    return await _save_insights(ctx, row["post_id"], "post_insights",
                                post_id=row["graph_id"] or row["post_id"],
                                post_type=row["post_type"])


@flow("refresh_stories_posts", StoriesParams, platform=PLATFORM, processes=1, concurrency=5)
async def refresh_stories_posts(params: StoriesParams, ctx: TaskContext) -> dict[str, Any]:
    """The account's live stories."""
    director = director_of(ctx)
    row = await _account(ctx, params)
    got = await director.fetch("stories", profile_id=row["profile_id"], handle=row["handle"],
                               graph_id=row["graph_id"])
    stories = [s.model_copy(update={"profile_id": row["profile_id"],
                                    "handle": s.handle or row["handle"], "post_type": "story"})
               for s in got.value]
    await save_posts(ctx.pool, stories)
    ids = [s.post_id for s in stories]
    if params.story_id and params.story_id not in ids + [s.graph_id for s in stories]:
        raise NotFound(f"story {params.story_id} of @{row['handle']} is not live (a story "
                       "lasts 24 hours)")
    return {"profile_id": row["profile_id"], "stories": ids, "source": got.source}


@flow("refresh_story_insights", StoryParams, platform=PLATFORM, processes=1, concurrency=5)
async def refresh_story_insights(params: StoryParams, ctx: TaskContext) -> dict[str, Any]:
    """A story's insights (Graph API, own stories, while the story is live); `story_id` is
    the story's id as stored or its Graph API id."""
    row = await fetch_one(ctx.pool, "post_by_post_id", params.story_id)
    stored_id = row["post_id"] if row else params.story_id
    return await _save_insights(ctx, stored_id, "story_insights",
                                story_id=(row and row["graph_id"]) or params.story_id)


async def _relations(params: ListingParams, ctx: TaskContext, kind: str,
                     capability: str) -> dict[str, Any]:
    row = await _account(ctx, params)
    profile_id = row["profile_id"]

    async def store(accounts: list[Account], source: str) -> int:
        return await save_relationships(ctx.pool, profile_id, kind, accounts, source)

    result = await walk_pages(ctx, capability, {"profile_id": profile_id,
                                                "handle": row["handle"]},
                              params.max_items, store, "accounts")
    return {"profile_id": profile_id, **result}


@flow("fetch_profile_followers", ListingParams, platform=PLATFORM, processes=1, concurrency=3,
      timeout_s=3600)
async def fetch_profile_followers(params: ListingParams, ctx: TaskContext) -> dict[str, Any]:
    """The account's followers, page by page (resumes from its cursor after a crash)."""
    return await _relations(params, ctx, "follower", "followers")


@flow("fetch_profile_following", ListingParams, platform=PLATFORM, processes=1, concurrency=3,
      timeout_s=3600)
async def fetch_profile_following(params: ListingParams, ctx: TaskContext) -> dict[str, Any]:
    """The accounts the account follows, page by page (resumes from its cursor)."""
    return await _relations(params, ctx, "following", "following")


@flow("fetch_post_comments", PostListingParams, platform=PLATFORM, processes=1, concurrency=5,
      timeout_s=3600)
async def fetch_post_comments(params: PostListingParams, ctx: TaskContext) -> dict[str, Any]:
    """A post's comments, page by page (resumes from its cursor)."""
    row = await stored_post(director_of(ctx), ctx.pool, params.shortcode, params.post_id)
    post_id = row["post_id"]

    async def store(comments: list[Comment], source: str) -> int:
        return await save_comments(ctx.pool, post_id, comments)

    result = await walk_pages(ctx, "comments", {"post_id": post_id, "graph_id": row["graph_id"],
                                                "shortcode": row["shortcode"]},
                              params.max_items, store, "comments")
    return {"post_id": post_id, **result}


@flow("fetch_post_likes", PostListingParams, platform=PLATFORM, processes=1, concurrency=3,
      timeout_s=3600)
async def fetch_post_likes(params: PostListingParams, ctx: TaskContext) -> dict[str, Any]:
    """The accounts that liked a post, page by page (resumes from its cursor)."""
    row = await stored_post(director_of(ctx), ctx.pool, params.shortcode, params.post_id)
    post_id = row["post_id"]

    async def store(accounts: list[Account], source: str) -> int:
        return await save_likers(ctx.pool, post_id, accounts, source)

    result = await walk_pages(ctx, "likers", {"post_id": post_id,
                                              "shortcode": row["shortcode"]},
                              params.max_items, store, "likers")
    return {"post_id": post_id, **result}


async def _linked_posts(ctx: TaskContext, kind: str, key: str, posts: list[Post]) -> int:
    await save_posts(ctx.pool, posts)
    return await save_links(ctx.pool, kind, key, posts)


@flow("fetch_hashtag_posts", HashtagParams, platform=PLATFORM, processes=1, concurrency=3,
      timeout_s=1800)
async def fetch_hashtag_posts(params: HashtagParams, ctx: TaskContext) -> dict[str, Any]:
    """Top or recent posts under a hashtag (Graph API hashtag search first)."""
    async def store(posts: list[Post], source: str) -> int:
        return await _linked_posts(ctx, "hashtag", params.hashtag, posts)

    result = await walk_pages(ctx, "hashtag_posts", {"hashtag": params.hashtag,
                                                     "tab": params.tab},
                              params.max_items, store, "posts")
    return {"hashtag": params.hashtag, "tab": params.tab, **result}


@flow("fetch_tagged_posts", ListingParams, platform=PLATFORM, processes=1, concurrency=3,
      timeout_s=1800)
async def fetch_tagged_posts(params: ListingParams, ctx: TaskContext) -> dict[str, Any]:
    """Posts in which the account is tagged."""
    row = await _account(ctx, params)
    profile_id = row["profile_id"]

    async def store(posts: list[Post], source: str) -> int:
        return await _linked_posts(ctx, "tagged", profile_id, posts)

    result = await walk_pages(ctx, "tagged_posts", {"profile_id": profile_id,
                                                    "graph_id": row["graph_id"],
                                                    "handle": row["handle"]},
                              params.max_items, store, "posts")
    return {"profile_id": profile_id, **result}

