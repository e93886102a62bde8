"""World objects as Invidious API v1 JSON (shapes: see invidious_api's docstring)."""

import html
from datetime import datetime
from typing import Any

from sandbox.youtube.comments import Comment
from sandbox.youtube.world import Channel, Video, World

Json = dict[str, Any]
_THUMBS = (("maxres", "maxres", 1280, 720), ("maxresdefault", "maxresdefault", 1280, 720),
           ("sddefault", "sddefault", 640, 480), ("high", "hqdefault", 480, 360),
           ("medium", "mqdefault", 320, 180), ("default", "default", 120, 90),
           ("start", "1", 120, 90), ("middle", "2", 120, 90), ("end", "3", 120, 90))
_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400), ("day", 86400),
          ("hour", 3600), ("minute", 60), ("second", 1))
REGIONS = ("AD", "AE", "AR", "AT", "AU", "BE", "BR", "CA", "CH", "DE", "DK", "ES", "FI", "FR",
           "GB", "IE", "IN", "IT", "JP", "KR", "MX", "NL", "NO", "NZ", "PL", "PT", "SE", "US")
TABS = ["videos", "shorts", "playlists", "community"]


def published_text(moment: datetime, now: datetime) -> str:
    """Age as Invidious writes it ("3 years ago"), from the world's clock (deterministic)."""
    seconds = max(0, int((now - moment).total_seconds()))
    for name, size in _UNITS:
        if seconds >= size:
            count = seconds // size
            return f"{count} {name}{'s' if count != 1 else ''} ago"
    return "0 seconds ago"


def short_number(value: int) -> str:
    """1234 -> "1.2K", 5600000 -> "5.6M", as YouTube writes counts in text."""
    for suffix, size in (("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if value >= size:
            text = f"{value / size:.1f}".rstrip("0").rstrip(".")
            return text + suffix
    return str(value)


def video_thumbnails(base: str, video_id: str) -> list[Json]:
    return [{"quality": quality, "url": f"{base}/vi/{video_id}/{file}.jpg", "width": w,
             "height": h} for quality, file, w, h in _THUMBS]


def author_thumbnails(channel: Channel, sizes: tuple[int, ...] = (32, 48, 76, 100, 176, 512)
                      ) -> list[Json]:
    return [{"url": channel.thumbnail(size), "width": size, "height": size} for size in sizes]


def banners(channel: Channel) -> list[Json]:
    url = f"https://yt3.ggpht.com/{channel.banner_token}"
    sized = [{"url": f"{url}=w{w}-fcrop64=1,00005a57ffffa5a8-k-c0xffffffff-no-nd-rj",
              "width": w, "height": h} for w, h in ((2560, 424), (2120, 351), (1060, 175))]
    return [*sized, {"url": url, "width": 512, "height": 288}]


def description_html(text: str) -> str:
    return html.escape(text, quote=False)


def _author(channel: Channel) -> Json:
    return {"author": channel.title, "authorId": channel.channel_id,
            "authorUrl": f"/channel/{channel.channel_id}", "authorVerified": channel.verified}


def video(world: World, video: Video, base: str) -> Json:
    """GET /api/v1/videos/:id."""
    channel = world.channel(video.channel_id)
    assert channel is not None
    return {
        "type": "video", "title": video.title, "videoId": video.video_id,
        "videoThumbnails": video_thumbnails(base, video.video_id), "storyboards": [],
        "description": video.description,
        "descriptionHtml": description_html(video.description),
        "published": int(video.published_at.timestamp()),
        "publishedText": published_text(video.published_at, world.now),
        "keywords": list(video.tags), "viewCount": video.views,
        "likeCount": video.likes or 0, "dislikeCount": 0, "paid": False, "premium": False,
        "isFamilyFriendly": True, "allowedRegions": list(REGIONS), "genre": video.genre,
        "genreUrl": None, **_author(channel),
        "authorThumbnails": author_thumbnails(channel),
        "subCountText": "" if channel.hidden_subscribers else short_number(channel.subscribers),
        "lengthSeconds": video.duration_s, "allowRatings": video.likes is not None,
        "rating": 0, "isListed": True, "liveNow": False, "isPostLiveDvr": False,
        "isUpcoming": False, "dashUrl": f"{base}/api/manifest/dash/id/{video.video_id}",
        "adaptiveFormats": [], "formatStreams": [], "captions": [],
        "recommendedVideos": [_recommended(world, channel, v, base)
                              for v in world.videos(_neighbours(channel, video))],
    }


def _neighbours(channel: Channel, video: Video) -> list[str]:
    at = channel.video_ids.index(video.video_id)
    return [v for v in channel.video_ids[max(0, at - 2):at + 3] if v != video.video_id]


def _recommended(world: World, channel: Channel, video: Video, base: str) -> Json:
    return {
        "videoId": video.video_id, "title": video.title,
        "videoThumbnails": video_thumbnails(base, video.video_id),
        "author": channel.title, "authorUrl": f"/channel/{channel.channel_id}",
        "authorId": channel.channel_id, "authorVerified": channel.verified,
        "authorThumbnails": author_thumbnails(channel),
        "lengthSeconds": video.duration_s,
        "viewCountText": short_number(video.views),
        "published": video.published_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "publishedText": published_text(video.published_at, world.now),
    }


def video_object(world: World, video: Video, base: str) -> Json:
    """A VideoObject (channel video lists, latestVideos)."""
    channel = world.channel(video.channel_id)
    assert channel is not None
    return {
        "type": "video", "title": video.title, "videoId": video.video_id, **_author(channel),
        "videoThumbnails": video_thumbnails(base, video.video_id),
        "description": video.description,
        "descriptionHtml": description_html(video.description),
        "viewCount": video.views, "viewCountText": f"{short_number(video.views)} views",
        "lengthSeconds": video.duration_s, "published": int(video.published_at.timestamp()),
        "publishedText": published_text(video.published_at, world.now),
        "liveNow": False, "premium": False, "isUpcoming": False,
    }


def channel_object(world: World, channel: Channel) -> Json:
    """A ChannelObject (relatedChannels)."""
    return {
        "type": "channel", **_author(channel),
        "authorThumbnails": author_thumbnails(channel), "autoGenerated": False,
        "subCount": 0 if channel.hidden_subscribers else channel.subscribers,
        "videoCount": channel.video_count, "description": channel.description,
        "descriptionHtml": description_html(channel.description),
    }


def channel(world: World, channel: Channel, latest: list[Video], base: str) -> Json:
    """GET /api/v1/channels/:ucid (a hidden subscriber count reads 0, as Invidious reads it)."""
    others = [c for c in world.channels if c.channel_id != channel.channel_id]
    start = world.channels.index(channel) % len(others)
    return {
        "author": channel.title, "authorId": channel.channel_id,
        "authorUrl": f"/channel/{channel.channel_id}", "authorBanners": banners(channel),
        "authorThumbnails": author_thumbnails(channel),
        "subCount": 0 if channel.hidden_subscribers else channel.subscribers,
        "totalViews": world.channel_views(channel.channel_id),
        "joined": int(channel.published_at.timestamp()), "autoGenerated": False,
        "isFamilyFriendly": True, "description": channel.description,
        "descriptionHtml": description_html(channel.description),
        "allowedRegions": list(REGIONS), "tabs": TABS,
        "tags": [channel.topic.name, *channel.topic.nouns[:4]],
        "authorVerified": channel.verified,
        "latestVideos": [video_object(world, v, base) for v in latest],
        "relatedChannels": [channel_object(world, c) for c in others[start:start + 2]],
    }


def comment(world: World, comment: Comment, replies_token: str | None) -> Json:
    """One comment of GET /api/v1/comments/:id."""
    channel = world.channel(world.video_channel(comment.video_id))
    assert channel is not None
    body: Json = {
        "author": comment.author,
        "authorThumbnails": [{"url": f"https://yt3.ggpht.com/ytc/{comment.author_channel_id}"
                                     f"=s{s}-c-k-c0x00ffffff-no-rj", "width": s, "height": s}
                             for s in (48, 88, 176)],
        "authorId": comment.author_channel_id,
        "authorUrl": f"/channel/{comment.author_channel_id}",
        "isEdited": comment.edited, "isPinned": False, "content": comment.text,
        "contentHtml": description_html(comment.text),
        "published": int(comment.published_at.timestamp()),
        "publishedText": published_text(comment.published_at, world.now),
        "likeCount": comment.likes, "commentId": comment.comment_id,
        "authorIsChannelOwner": comment.by_owner,
    }
    if comment.reply_count and replies_token:
        body["replies"] = {"replyCount": comment.reply_count, "continuation": replies_token}
    return body
