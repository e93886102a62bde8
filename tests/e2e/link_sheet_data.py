"""The links report's e2e sheet: 200+ input lines mixing YouTube, Instagram, Facebook and X in
every URL form each platform's router accepts (share links through the sandbox's share codes),
each pointing at a real item of the sandbox worlds, with duplicates, dead and private items,
links the report refuses, junk lines and unsupported hosts; and the status each line must get.

A line is (input, platform, stored key or None, status). An ok line names the item it reaches
(`same`, what the router sees: forms with one id are one item): the first line of an item is
"ok", the next ones "ok (duplicate of row N)", N counted here (header = row 1).
"""

from typing import NamedTuple

from sandbox.facebook.world import DELETED_POST, PRIVATE_POST
from sandbox.facebook.world import build_world as fb_world
from sandbox.instagram.fallbacks import share_code
from sandbox.instagram.world import MISSING_HANDLE, OWNER_HANDLE, PRIVATE_HANDLE
from sandbox.instagram.world import build_world as ig_world
from sandbox.x import world as xw
from sandbox.youtube.world import build_world as yt_world

Key = tuple[str, str]
Line = tuple[str, str | None, Key | None, str]
NO_FIGURES = "has no figures of its own: paste a video or channel link"


class Ok(NamedTuple):
    """A line that reaches a stored item: `key` names its row, `same` the router's item."""

    url: str
    platform: str
    key: Key
    same: str = ""


class Fail(NamedTuple):
    """A line with no stored item: its platform (None: the router knows none) and status."""

    url: str
    platform: str | None
    status: str


Entry = Ok | Fail


def bad(url: str, reason: str) -> Fail:
    """A line the router refuses: no platform, "unsupported URL: {reason}"."""
    return Fail(url, None, f"unsupported URL: {reason}")


def youtube() -> list[Entry]:
    world = yt_world(1)
    v1, v2, v3, v4, v5, v6 = (v.video_id for v in world.find_videos(limit=6))
    shown = [c for c in world.channels if not c.hidden_subscribers]
    chan, other, third = shown[0], shown[1], shown[2]
    cid, handle = chan.channel_id, chan.handle.lstrip("@")
    yt = "youtube"

    def video(url: str, ident: str) -> Ok:
        return Ok(url, yt, ("yt", ident))

    return [
        video(f"https://www.youtube.com/watch?v={v1}", v1),
        video(f"https://youtube.com/watch?v={v1}&feature=share", v1),
        video(f"http://m.youtube.com/watch?v={v1}", v1),
        video(f"www.youtube.com/watch?v={v1}&list=PL{'Q' * 30}&index=2", v1),
        video(f"https://www.youtube.com/watch/{v1}", v1),
        video(f"//www.youtube.com/watch?v={v1}", v1),
        video(f"HTTPS://WWW.YOUTUBE.COM/watch?v={v1}", v1),
        video(f"https://youtu.be/{v2}", v2),
        video(f"https://youtu.be/{v2}?si=AbCdEf&t=10", v2),
        video(f"youtu.be/{v2}&feature=share", v2),
        video(f"https://www.youtu.be/{v2}", v2),
        video(f"https://www.youtube.com/shorts/{v3}", v3),
        video(f"https://m.youtube.com/shorts/{v3}?feature=share", v3),
        video(f"https://www.youtube.com/live/{v4}", v4),
        video(f"https://www.youtube.com/embed/{v4}?start=5", v4),
        video(f"https://www.youtube-nocookie.com/embed/{v5}", v5),
        video(f"https://youtube-nocookie.com/embed/{v5}", v5),
        video(f"https://www.youtube.com/v/{v5}", v5),
        video(f"https://music.youtube.com/watch?v={v6}", v6),
        video(f"https://www.youtube.com/watch?v={v6}&amp;t=1", v6),
        Ok(f"https://www.youtube.com/channel/{cid}", yt, ("ytc", cid)),
        Ok(f"https://www.youtube.com/channel/{cid}/videos", yt, ("ytc", cid)),
        Ok(f"https://music.youtube.com/channel/{cid}", yt, ("ytc", cid)),
        Ok(f"https://www.youtube.com/embed/live_stream?channel={cid}", yt, ("ytc", cid)),
        # By handle: another router item (the id is the @handle), the same stored channel.
        Ok(f"https://www.youtube.com/@{handle}", yt, ("ytc", cid), f"@{handle}"),
        Ok(f"https://www.youtube.com/@{handle}/shorts", yt, ("ytc", cid), f"@{handle}"),
        Ok(f"https://m.youtube.com/@{handle.upper()}", yt, ("ytc", cid), f"@{handle.upper()}"),
        Ok(f"youtube.com/@{other.handle.lstrip('@')}/featured", yt, ("ytc", other.channel_id),
           other.handle),
        Ok(f"https://www.youtube.com/channel/{third.channel_id}/streams", yt,
           ("ytc", third.channel_id)),
        Fail("https://www.youtube.com/watch?v=aaaaaaaaaaa", yt, "not found / deleted"),
        Fail("https://youtu.be/zzzzzzzzzzz", yt, "not found / deleted"),
        Fail("https://www.youtube.com/channel/UC" + "x" * 22, yt, "not found / deleted"),
        Fail("https://www.youtube.com/playlist?list=PL" + "Q" * 30, yt,
             f"unsupported URL: a playlist {NO_FIGURES}"),
        Fail("https://www.youtube.com/embed/videoseries?list=PL" + "R" * 30, yt,
             f"unsupported URL: a playlist {NO_FIGURES}"),
        Fail("https://music.youtube.com/playlist?list=OLAK5uy_" + "k" * 33, yt,
             f"unsupported URL: a playlist {NO_FIGURES}"),
        Fail("https://www.youtube.com/c/SandboxNews", yt,
             f"unsupported URL: a legacy channel name (c/SandboxNews) {NO_FIGURES}"),
        Fail("https://www.youtube.com/user/sandboxnews/videos", yt,
             f"unsupported URL: a legacy channel name (user/sandboxnews) {NO_FIGURES}"),
        bad("https://www.youtube.com/", "the YouTube homepage is not a video, channel or "
            "playlist"),
        bad("https://www.youtube.com/feed/trending", "/feed is not a YouTube video, channel or "
            "playlist page"),
        bad("https://www.youtube.com/watch?v=short", "'short' is not a valid YouTube video id "
            "(11 of A-Z a-z 0-9 _ -)"),
        bad("https://www.youtube.com/watch?list=PL" + "Q" * 30, "watch URL has no v= parameter"),
        bad(f"https://music.youtube.com/browse/{cid}", "music.youtube.com: only /watch, "
            "/playlist and /channel are supported"),
        bad(f"https://www.youtube.com/@{handle}/videos/extra", "unrecognised channel tab "
            "/videos/extra"),
        Fail(f"https://youtube.com.evil.example/watch?v={v1}", None, "unsupported platform"),
    ]


def instagram() -> list[Entry]:
    world = ig_world(1)
    owner = world.owner()
    post, reel, third = world.media_of(owner, count=3)
    private = world.account_by_handle(PRIVATE_HANDLE)
    assert private is not None
    hidden = world.media_of(private, count=1)[0]
    ig = "instagram"
    sc, rc = post.shortcode, reel.shortcode
    story = world.stories_of(owner)[0]

    def media(url: str, code: str) -> Ok:
        return Ok(url, ig, ("ig", code))

    def profile(url: str) -> Ok:
        return Ok(url, ig, ("igp", OWNER_HANDLE))

    return [
        # Only the provider tells a private post from a missing one (the web JSON answers null
        # media for both, and a task waits for a resting provider rather than take that): the
        # stack unpaces the provider so that no such wait slows the test
        # (test_link_report.start_stack).
        Fail(f"https://www.instagram.com/p/{hidden.shortcode}/", ig, "private"),
        media(f"https://www.instagram.com/p/{sc}/", sc),
        media(f"https://instagram.com/p/{sc}/?igsh=abc", sc),
        media(f"instagram.com/p/{sc}", sc),
        media(f"https://m.instagram.com/p/{sc}/", sc),
        media(f"https://www.instagram.com/p/{sc}/embed/", sc),
        media(f"https://www.instagram.com/p/{sc}/embed/captioned/", sc),
        media(f"https://www.instagram.com/p/{sc}/c/17900000000000001/", sc),
        media(f"https://www.instagram.com/p/{sc}/c/17900000000000001/r/17900000000000002/", sc),
        media(f"https://www.instagram.com/p/{sc}/liked_by/", sc),
        media(f"https://instagr.am/p/{sc}/", sc),
        media(f"https://www.instagr.am/p/{sc}", sc),
        media(f"https://www.instagram.com/{OWNER_HANDLE}/p/{sc}/", sc),
        media(f"https://www.instagram.com/share/p/{share_code(1, post)}/", sc),
        media(f"https://www.instagram.com/share/{share_code(1, post)}/", sc),
        media(f"https://www.instagram.com/reel/{rc}/", rc),
        media(f"https://www.instagram.com/reels/{rc}/", rc),
        media(f"https://m.instagram.com/reel/{rc}", rc),
        media(f"https://instagr.am/reel/{rc}/", rc),
        media(f"https://www.instagram.com/tv/{rc}/", rc),
        media(f"https://www.instagram.com/{OWNER_HANDLE}/reel/{rc}/", rc),
        media(f"https://www.instagram.com/share/reel/{share_code(1, reel)}/", rc),
        media(f"https://www.instagram.com/p/{third.shortcode}/media/", third.shortcode),
        # A story is found among its account's live stories; one that is not live is gone.
        Ok(f"https://www.instagram.com/stories/{OWNER_HANDLE}/{story.pk}/", ig, ("igs", story.pk)),
        Ok(f"https://instagram.com/stories/{OWNER_HANDLE.upper()}/{story.pk}"
           "?utm_source=ig_story_item_share", ig, ("igs", story.pk)),
        Fail(f"https://www.instagram.com/stories/{OWNER_HANDLE}/{int(story.pk) + 97}/", ig,
             "not found / deleted"),
        profile(f"https://www.instagram.com/{OWNER_HANDLE}/"),
        profile(f"https://www.instagram.com/{OWNER_HANDLE}/reels/"),
        profile(f"https://www.instagram.com/{OWNER_HANDLE}/tagged/"),
        profile(f"https://www.instagram.com/_u/{OWNER_HANDLE}"),
        profile(f"https://ig.me/m/{OWNER_HANDLE}"),
        profile(f"https://www.instagram.com/{OWNER_HANDLE.upper()}"),
        Fail(f"https://www.instagram.com/{MISSING_HANDLE}/", ig, "not found / deleted"),
        Fail("https://www.instagram.com/p/Cz000000000/", ig, "not found / deleted"),
        Fail("https://www.instagram.com/share/p/NoSuchShare9/", ig,
             "needs resolution: the share link answered HTTP 404, not a redirect"),
        bad("https://www.instagram.com/", "the Instagram homepage is not a post or profile"),
        bad("https://www.instagram.com/explore/", "the Explore page is not one post or profile"),
        Fail("https://www.instagram.com/explore/tags/sandbox/", ig, "unsupported URL: a "
             "hashtag has no figures of its own: paste a post or profile link"),
        bad("https://www.instagram.com/accounts/login/", "/accounts pages (login, settings) are "
            "not a post or profile"),
        bad("https://www.instagram.com/reels/", "the Reels feed is not one post; paste a reel's "
            "own link"),
        bad(f"https://www.instagram.com/stories/{OWNER_HANDLE}/", "a user's current stories are "
            "not one post; paste one story's link (/stories/{user}/{story id}/)"),
        bad("https://www.instagram.com/stories/highlights/17900000000000003/",
            "a story highlight is a collection, not one post"),
        bad("https://www.instagram.com/s/aGlnaGxpZ2h0/", "a highlight share link (/s/…) names a "
            "highlight, not one post or profile"),
        bad(f"https://www.instagram.com/{OWNER_HANDLE}/saved/", "unrecognised profile page "
            f"/{OWNER_HANDLE}/saved"),
        bad("https://www.instagram.com/.bad..name/", "'.bad..name' is not a valid Instagram "
            "user name (1-30 letters, digits, _ and ., no leading, trailing or double .)"),
    ]


def facebook() -> list[Entry]:
    world = fb_world(1)
    post = next(p for p in world.post_list() if p.shares)
    other = next(p for p in world.post_list() if p.page is not post.page)
    page_id, story = post.post_id.split("_")
    page = post.page
    video = next(v for v in world.videos.values() if not v.reel)
    reel = next(v for v in world.videos.values() if v.reel)
    fb = "facebook"
    by_pfbid = f"https://www.facebook.com/{page.username}/posts/{post.pfbid}"
    watch = f"https://www.facebook.com/watch/?v={video.video_id}"

    def item(url: str, ident: str, same: str = "") -> Ok:
        return Ok(url, fb, ("fb", ident), same)

    def home(url: str, same: str = "") -> Ok:
        return Ok(url, fb, ("fbp", page.page_id), same)

    pid, vid, rid = post.post_id, video.video_id, reel.video_id
    reel_url = f"https://www.facebook.com/reel/{rid}"
    named = page.name.replace(" ", "-")
    return [
        item(f"https://www.facebook.com/permalink.php?story_fbid={story}&id={page_id}", pid),
        item(f"https://www.facebook.com/story.php?story_fbid={story}&id={page_id}", pid),
        item(f"https://m.facebook.com/permalink.php?story_fbid={story}&id={page_id}", pid),
        item(f"https://www.facebook.com/{page_id}/posts/{story}/", pid),
        item(f"https://mbasic.facebook.com/{page_id}/posts/{story}", pid),
        item(f"https://web.facebook.com/story.php?story_fbid={story}&id={page_id}", pid),
        item(f"https://touch.facebook.com/{page_id}/posts/{story}", pid),
        item(f"https://fb.com/{page_id}/posts/{story}", pid),
        # The pfbid form is another id for the router: its own item, the same stored post.
        item(by_pfbid, pid, post.pfbid),
        item(f"https://www.facebook.com/permalink.php?story_fbid={post.pfbid}&id={page_id}",
             pid, post.pfbid),
        item(f"https://www.facebook.com/share/p/{_code(world.shares, 'p/', by_pfbid)}/", pid,
             post.pfbid),
        item(f"https://www.facebook.com/{other.page.page_id}/posts/"
             f"{other.post_id.split('_')[1]}", other.post_id),
        item(watch, vid),
        item(f"https://www.facebook.com/watch?v={vid}", vid),
        item(f"https://m.facebook.com/watch/?v={vid}", vid),
        item(f"https://www.facebook.com/watch/live/?v={vid}", vid),
        item(f"https://www.facebook.com/video.php?v={vid}", vid),
        item(f"https://www.facebook.com/{video.page.username}/videos/{vid}/", vid),
        item(f"https://www.facebook.com/{video.page.username}/videos/launch-day/{vid}", vid),
        item(f"https://www.fb.com/watch/?v={vid}", vid),
        item(f"https://fb.watch/{_code(world.shares, 'fbwatch/', watch)}/", vid),
        item(f"https://www.facebook.com/share/v/{_code(world.shares, 'v/', watch)}/", vid),
        item(f"https://www.facebook.com/reel/{rid}", rid),
        item(f"https://facebook.com/reel/{rid}/", rid),
        item(f"https://www.facebook.com/{reel.page.username}/reels/{rid}", rid),
        item(f"https://www.facebook.com/share/r/{_code(world.shares, 'r/', reel_url)}/", rid),
        # A page by name and by numeric id: two router items, one stored page.
        home(f"https://www.facebook.com/{page.username}", page.username),
        home(f"https://www.facebook.com/{page.username}/about/", page.username),
        home(f"https://m.facebook.com/{page.username.upper()}/", page.username),
        home(f"https://www.facebook.com/profile.php?id={page.page_id}"),
        home(f"https://www.facebook.com/people/{named}/{page.page_id}/"),
        home(f"https://www.facebook.com/pages/{named}/{page.page_id}"),
        home(f"https://www.facebook.com/p/{named}-{page.page_id}/"),
        Fail(f"https://www.facebook.com/permalink.php?story_fbid="
             f"{PRIVATE_POST.split('_')[1]}&id={PRIVATE_POST.split('_')[0]}", fb, "private"),
        Fail(f"https://www.facebook.com/{DELETED_POST.split('_')[0]}/posts/"
             f"{DELETED_POST.split('_')[1]}", fb, "not found / deleted"),
        Fail("https://www.facebook.com/watch/?v=1399999999999999", fb, "not found / deleted"),
        Fail("https://www.facebook.com/no.such.page.anywhere", fb, "not found / deleted"),
        Fail("https://www.facebook.com/share/p/NoSuchShare9/", fb,
             "needs resolution: the share link answered HTTP 404, not a redirect"),
        Fail("https://fb.watch/NoSuchCode9/", fb,
             "needs resolution: the share link answered HTTP 404, not a redirect"),
        bad("https://www.facebook.com/", "the Facebook homepage is not a post, video or page"),
        bad("https://www.facebook.com/home.php", "the news feed is not one post, video or page"),
        bad("https://www.facebook.com/sharer.php?u=https://example.com", "the share dialog is "
            "not a post, video or page"),
        bad("https://www.facebook.com/watch/", "the Watch feed is not one video; a watch link is "
            "/watch/?v={id}"),
        bad("https://www.facebook.com/permalink.php?id=1", "a permalink.php or story.php link "
            "needs story_fbid="),
        bad(f"https://www.facebook.com/{page.username}/events/123/going", "unrecognised page "
            f"link /{page.username}/events/123/going"),
    ]


def _code(shares: dict[str, str], prefix: str, url: str) -> str:
    """The sandbox share code (after its kind) that redirects to `url`."""
    return next(key.removeprefix(prefix) for key, target in shares.items()
                if key.startswith(prefix) and target == url)


def x() -> list[Entry]:
    codes = {tweet: code for code, tweet in xw.build_world(1).tco.items()}
    views, old, vid = xw.WITH_VIEWS, xw.OLD_TWEET, xw.VIDEO

    def tweet(url: str, ident: str) -> Ok:
        return Ok(url, "x", ("x", ident))

    def profile(url: str, handle: str) -> Ok:
        return Ok(url, "x", ("xp", handle))

    hosts = ["x.com", "www.x.com", "mobile.x.com", "twitter.com", "www.twitter.com",
             "mobile.twitter.com", "m.twitter.com", "fxtwitter.com", "d.fxtwitter.com",
             "fixupx.com", "vxtwitter.com", "fixvx.com"]
    tails = ["photo/1", "video/1", "analytics", "quotes", "retweets", "likes", "history"]
    return [
        *(tweet(f"https://{host}/beatnews/status/{views}", views) for host in hosts),
        *(tweet(f"https://x.com/beatnews/status/{views}/{tail}", views) for tail in tails),
        tweet(f"https://x.com/beatnews/statuses/{views}?s=20&t=abc", views),
        tweet(f"https://x.com/anyone/status/{views}", views),
        tweet(f"https://t.co/{codes[views]}", views),
        tweet(f"https://t.co/{codes[views]}?amp=1", views),
        tweet(f"https://mobile.twitter.com/i/web/status/{old}", old),
        tweet(f"https://x.com/i/status/{old}", old),
        tweet(f"https://twitter.com/oldtimer/status/0{old}", old),
        tweet(f"https://t.co/{codes[old]}", old),
        tweet(f"https://t.co/{codes[vid]}", vid),
        tweet(f"https://x.com/beatnews/status/{vid}/video/1", vid),
        tweet(f"https://t.co/{codes[xw.QUOTE]}", xw.QUOTE),
        tweet(f"https://x.com/beatnews/status/{xw.CROWD_BASE + 7}", str(xw.CROWD_BASE + 7)),
        profile("https://x.com/BeatNews", "beatnews"),
        profile("https://twitter.com/beatnews/media", "beatnews"),
        profile("https://x.com/@beatnews", "beatnews"),
        profile("https://x.com/oldtimer/with_replies", "oldtimer"),
        profile("https://twitter.com/OldTimer", "oldtimer"),
        Fail(f"https://x.com/beatnews/status/{xw.DELETED}", "x", "not found / deleted"),
        Fail(f"https://t.co/{codes[xw.DELETED]}", "x", "not found / deleted"),
        Fail(f"https://x.com/someone/status/{xw.PROTECTED}", "x", "private"),
        Fail("https://x.com/beatnews/status/1850000000000009999", "x", "not found / deleted"),
        Fail("https://x.com/nosuchhandle42", "x", "not found / deleted"),
        Fail("https://t.co/NoSuchCode9", "x",
             "needs resolution: the share link answered HTTP 404, not a redirect"),
        bad("https://x.com/", "the X homepage is not a post or profile"),
        bad("https://x.com/home", "the home timeline is not one post or profile"),
        bad("https://x.com/search?q=sandbox", "a search page lists posts, it is not one post or "
            "profile"),
        bad("https://x.com/hashtag/sandbox", "a hashtag page lists posts, it is not one post or "
            "profile"),
        bad("https://x.com/intent/tweet?text=hi", "an /intent link opens a dialog (post, like, "
            "follow), not a post or profile"),
        bad("https://x.com/i/lists/123", "/i/ pages are X's own (lists, spaces, settings), not "
            "a post or profile; only /i/web/status/{id} and /i/status/{id} name a post"),
        bad("https://x.com/beatnews/status/abc", "'abc' is not a tweet id (digits)"),
        bad("https://x.com/this_handle_is_far_too_long", "'this_handle_is_far_too_long' is not "
            "a valid X handle (1-15 letters, digits and _)"),
        bad("https://t.co/", "a t.co link is https://t.co/{code} (letters and digits)"),
        bad("https://t.co/bad-code!", "a t.co link is https://t.co/{code} (letters and digits)"),
    ]


def junk() -> list[Entry]:
    return [
        Fail("https://www.tiktok.com/@someone/video/7300000000000000000", None,
             "unsupported platform"),
        Fail("https://example.com/some/page", None, "unsupported platform"),
        Fail("https://vimeo.com/123456", None, "unsupported platform"),
        Fail("https://www.linkedin.com/posts/someone_activity-1", None, "unsupported platform"),
        bad("hello there", "URL contains spaces, backslashes or invisible characters"),
        bad("ftp://youtube.com/watch?v=dQw4w9WgXcQ", "scheme 'ftp' is not http or https"),
        bad("mailto:news@example.com", "scheme 'mailto' is not http or https"),
        bad("@beatnews", "a bare @handle names no platform; paste the profile's URL"),
        bad("https://www.youtube.com:8080/watch?v=dQw4w9WgXcQ", "unexpected port 8080"),
        bad("https://user:secret@x.com/beatnews", "URL carries a user name or password before "
            "the host"),
        bad("https://", "URL has no host"),
        Fail("N/A", None, "unsupported platform"),
        Fail("12345", None, "unsupported platform"),
        Fail("http://localhost/watch?v=dQw4w9WgXcQ", None, "unsupported platform"),
        Fail("https://instagram.com.evil.example/p/abc/", None, "unsupported platform"),
        Fail("https://facebook.com.evil.example/beatsandbox", None, "unsupported platform"),
        bad("javascript:alert(1)", "scheme 'javascript' is not http or https"),
        bad("see https://x.com/beatnews", "URL contains spaces, backslashes or invisible "
            "characters"),
        bad("https://www.youtube.com/watch?v=dQw4w9WgXcQ\\", "URL contains spaces, backslashes "
            "or invisible characters"),
    ]


def numbered(entries: list[Entry]) -> list[Line]:
    """The lines with their statuses: an item's first line ok, its next ones duplicates."""
    first: dict[tuple[str, str], int] = {}
    lines: list[Line] = []
    for row, entry in enumerate(entries, start=2):
        if isinstance(entry, Fail):
            lines.append((entry.url, entry.platform, None, entry.status))
            continue
        same = (entry.platform, entry.same or f"{entry.key[0]}:{entry.key[1]}")
        status = f"ok (duplicate of row {first[same]})" if same in first else "ok"
        first.setdefault(same, row)
        lines.append((entry.url, entry.platform, entry.key, status))
    return lines


def interleaved(*groups: list[Entry]) -> list[Entry]:
    """The platforms' lines dealt round-robin, as a real sheet mixes them."""
    out: list[Entry] = []
    for index in range(max(len(group) for group in groups)):
        out += [group[index] for group in groups if index < len(group)]
    return out


SHEET: list[Line] = numbered(interleaved(youtube(), instagram(), facebook(), x(), junk()))
