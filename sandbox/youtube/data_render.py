"""World objects as Data API v3 resources, key for key as the real responses in
../shared/fixtures/youtube (channels, videos, playlistItems, search results, comment threads)."""

from collections.abc import Collection
from typing import Any

from sandbox import rng as r
from sandbox.youtube.comments import Comment
from sandbox.youtube.world import Channel, Playlist, Video, World

Item = dict[str, Any]
_VIDEO_THUMBS = (("default", "default", 120, 90), ("medium", "mqdefault", 320, 180),
                 ("high", "hqdefault", 480, 360), ("standard", "sddefault", 640, 480),
                 ("maxres", "maxresdefault", 1280, 720))


def envelope(kind: str, items: list[Item], total: int, per_page: int,
             next_token: str | None = None, prev_token: str | None = None,
             **extra: Any) -> Item:
    """kind, etag, [nextPageToken], [prevPageToken], [extra], pageInfo, items."""
    body: Item = {"kind": kind, "etag": r.etag(kind, *(i["etag"] for i in items), next_token or "")}
    if next_token:
        body["nextPageToken"] = next_token
    if prev_token:
        body["prevPageToken"] = prev_token
    body |= extra
    body["pageInfo"] = {"totalResults": total, "resultsPerPage": per_page}
    body["items"] = items
    return body


def video_thumbnails(video_id: str, count: int = 5) -> Item:
    """default, medium, high[, standard, maxres] on i.ytimg.com."""
    return {name: {"url": f"https://i.ytimg.com/vi/{video_id}/{file}.jpg", "width": w,
                   "height": h} for name, file, w, h in _VIDEO_THUMBS[:count]}


def channel_thumbnails(channel: Channel) -> Item:
    return {name: {"url": channel.thumbnail(size), "width": size, "height": size}
            for name, size in (("default", 88), ("medium", 240), ("high", 800))}


def channel_item(world: World, channel: Channel, parts: Collection[str]) -> Item:
    item: Item = {"kind": "youtube#channel", "etag": r.etag(world.seed, channel.channel_id,
                                                            *sorted(parts)),
                  "id": channel.channel_id}
    if "snippet" in parts:
        item["snippet"] = _channel_snippet(channel)
    if "contentDetails" in parts:
        item["contentDetails"] = {"relatedPlaylists": {"likes": "",
                                                       "uploads": channel.uploads_playlist_id}}
    if "statistics" in parts:
        item["statistics"] = _channel_statistics(world, channel)
    if "brandingSettings" in parts:
        item["brandingSettings"] = _branding(channel)
    return item


def _channel_snippet(channel: Channel) -> Item:
    snippet: Item = {
        "title": channel.title, "description": channel.description,
        "customUrl": channel.handle.lower(), "publishedAt": r.rfc3339(channel.published_at),
        "thumbnails": channel_thumbnails(channel),
        "localized": {"title": channel.title, "description": channel.description},
    }
    if channel.country:
        snippet["country"] = channel.country
    return snippet


def _channel_statistics(world: World, channel: Channel) -> Item:
    statistics: Item = {"viewCount": str(world.channel_views(channel.channel_id))}
    if not channel.hidden_subscribers:
        statistics["subscriberCount"] = str(channel.subscribers)
    statistics["hiddenSubscriberCount"] = channel.hidden_subscribers
    statistics["videoCount"] = str(channel.video_count)
    return statistics


def _branding(channel: Channel) -> Item:
    settings: Item = {
        "title": channel.title, "description": channel.description,
        "keywords": " ".join(f'"{w}"' if " " in w else w
                             for w in (channel.topic.name, *channel.topic.nouns[:4])),
        "trackingAnalyticsAccountId": f"UA-{int.from_bytes(channel.thumb_token.encode()[:3])}-1",
        "unsubscribedTrailer": channel.video_ids[-1] if channel.video_ids else "",
    }
    if channel.country:
        settings["country"] = channel.country
    banner = f"https://yt3.ggpht.com/{channel.banner_token}"
    return {"channel": settings, "image": {"bannerExternalUrl": banner}}


def video_item(world: World, video: Video, parts: Collection[str]) -> Item:
    item: Item = {"kind": "youtube#video",
                  "etag": r.etag(world.seed, video.video_id, *sorted(parts)),
                  "id": video.video_id}
    if "snippet" in parts:
        item["snippet"] = _video_snippet(video)
    if "contentDetails" in parts:
        item["contentDetails"] = {
            "duration": r.iso_duration(video.duration_s), "dimension": "2d",
            "definition": video.definition, "caption": str(video.caption).lower(),
            "licensedContent": video.licensed, "contentRating": {}, "projection": "rectangular",
        }
    if "status" in parts:
        item["status"] = {"uploadStatus": "processed", "privacyStatus": "public",
                          "license": video.license, "embeddable": video.embeddable,
                          "publicStatsViewable": True}
    if "statistics" in parts:
        item["statistics"] = video_statistics(video)
    if "player" in parts:
        item["player"] = {"embedHtml": (
            f'<iframe width="480" height="270" src="//www.youtube.com/embed/{video.video_id}" '
            'frameborder="0" allow="accelerometer; autoplay; clipboard-write; encrypted-media; '
            'gyroscope; picture-in-picture; web-share" allowfullscreen></iframe>')}
    return item


def _video_snippet(video: Video) -> Item:
    snippet: Item = {
        "publishedAt": r.rfc3339(video.published_at), "channelId": video.channel_id,
        "title": video.title, "description": video.description,
        "thumbnails": video_thumbnails(video.video_id, 5 if video.definition == "hd" else 4),
        "channelTitle": video.channel_title,
    }
    if video.tags:
        snippet["tags"] = list(video.tags)
    snippet |= {"categoryId": video.category_id, "liveBroadcastContent": "none"}
    if video.default_language:
        snippet["defaultLanguage"] = video.default_language
    snippet["localized"] = {"title": video.title, "description": video.description}
    snippet["defaultAudioLanguage"] = video.audio_language
    return snippet


def video_statistics(video: Video) -> Item:
    """viewCount, likeCount (absent: hidden), favoriteCount, commentCount (absent: disabled)."""
    statistics: Item = {"viewCount": str(video.views)}
    if video.likes is not None:
        statistics["likeCount"] = str(video.likes)
    statistics["favoriteCount"] = "0"
    if video.comments is not None:
        statistics["commentCount"] = str(video.comments)
    return statistics


def playlist_item(world: World, playlist: Playlist, position: int, video: Video,
                  parts: Collection[str]) -> Item:
    owner = world.channel(playlist.channel_id)
    assert owner is not None
    suffix = (video.video_id if playlist.uploads
              else r.digest(world.seed, playlist.playlist_id, position).hex()[:16].upper())
    item_id = r.b64std(f"{playlist.playlist_id}.{suffix}")
    item: Item = {"kind": "youtube#playlistItem",
                  "etag": r.etag(world.seed, item_id, *sorted(parts)), "id": item_id}
    added = video.published_at if playlist.uploads else max(video.published_at,
                                                            playlist.published_at)
    if "snippet" in parts:
        item["snippet"] = {
            "publishedAt": r.rfc3339(added), "channelId": owner.channel_id,
            "title": video.title, "description": video.description,
            "thumbnails": video_thumbnails(video.video_id), "channelTitle": owner.title,
            "playlistId": playlist.playlist_id, "position": position,
            "resourceId": {"kind": "youtube#video", "videoId": video.video_id},
        }
    if "contentDetails" in parts:
        item["contentDetails"] = {"videoId": video.video_id,
                                  "videoPublishedAt": r.rfc3339(video.published_at)}
    if "status" in parts:
        item["status"] = {"privacyStatus": "public"}
    return item


def search_item(world: World, video: Video) -> Item:
    """A video result: title and description HTML-escaped, description cut as search cuts it."""
    description = video.description.replace("\n", " ")
    description = description if len(description) <= 160 else description[:157] + "..."
    return {
        "kind": "youtube#searchResult", "etag": r.etag(world.seed, "search", video.video_id),
        "id": {"kind": "youtube#video", "videoId": video.video_id},
        "snippet": {
            "publishedAt": r.rfc3339(video.published_at), "channelId": video.channel_id,
            "title": html_escape(video.title), "description": html_escape(description),
            "thumbnails": video_thumbnails(video.video_id, 3),
            "channelTitle": video.channel_title, "liveBroadcastContent": "none",
        },
    }


def comment_thread(world: World, comment: Comment, replies: list[Comment] | None,
                   plain: bool) -> Item:
    thread: Item = {
        "kind": "youtube#commentThread", "etag": r.etag(world.seed, "thread", comment.comment_id),
        "id": comment.comment_id,
        "snippet": {"videoId": comment.video_id,
                    "topLevelComment": comment_resource(world, comment, plain),
                    "canReply": True, "totalReplyCount": comment.reply_count, "isPublic": True},
    }
    if replies:
        thread["replies"] = {"comments": [comment_resource(world, c, plain) for c in replies]}
    return thread


def comment_resource(world: World, comment: Comment, plain: bool) -> Item:
    snippet: Item = {
        "authorDisplayName": comment.author,
        "authorProfileImageUrl": "https://yt3.ggpht.com/ytc/"
        + r.token_chars(r.digest(world.seed, "avatar", comment.author), 40)
        + "=s48-c-k-c0x00ffffff-no-rj",
        "authorChannelUrl": f"http://www.youtube.com/{comment.author}",
        "authorChannelId": {"value": comment.author_channel_id},
        "videoId": comment.video_id,
        "textDisplay": comment.text if plain else html_escape(comment.text),
        "textOriginal": comment.text,
    }
    if comment.parent_id:
        snippet["parentId"] = comment.parent_id
    snippet |= {"canRate": True, "viewerRating": "none", "likeCount": comment.likes,
                "publishedAt": r.rfc3339(comment.published_at),
                "updatedAt": r.rfc3339(comment.updated_at)}
    return {"kind": "youtube#comment", "etag": r.etag(world.seed, "c", comment.comment_id),
            "id": comment.comment_id, "snippet": snippet}


def html_escape(text: str) -> str:
    """As the Data API escapes titles in search results and comments: &amp; &quot; &#39; ..."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))
