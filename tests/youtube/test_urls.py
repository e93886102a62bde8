"""Specification of parse_youtube_url / is_youtube_url: what users paste, and what is refused."""

import pytest

from youtube.urls import Kind, NotYoutubeUrl, YoutubeRef, is_youtube_url, parse_youtube_url

VIDEO = "dQw4w9WgXcQ"
CHANNEL = "UCuAXFkgsw1L7xaCfnd5JJOw"
PLAYLIST = "PLFgquLnL59alCl_2TQvOiD5Vgm1hCaGSI"
ALBUM = "OLAK5uy_kd4bZ9dl0Eau_b3VgWj4QOE0GgWs9QT6E"
UPLOADS = "UU" + CHANNEL[2:]

ACCEPTED = [
    # Videos: watch?v=, wherever v sits in the query.
    (f"https://www.youtube.com/watch?v={VIDEO}", "video", VIDEO),
    (f"youtube.com/watch?v={VIDEO}", "video", VIDEO),
    (f"http://youtube.com/watch?v={VIDEO}", "video", VIDEO),
    (f"www.youtube.com/watch?feature=share&v={VIDEO}&t=42s", "video", VIDEO),
    (f"https://www.youtube.com/watch?v={VIDEO}&list={PLAYLIST}&index=3", "video", VIDEO),
    (f"https://www.youtube.com/watch?list={PLAYLIST}&v={VIDEO}", "video", VIDEO),
    (f"https://www.youtube.com/watch?v={VIDEO}#t=1m10s", "video", VIDEO),
    (f"https://www.youtube.com/watch?v={VIDEO}&v={VIDEO}", "video", VIDEO),
    (f"  https://www.youtube.com/watch?v={VIDEO}\n", "video", VIDEO),
    (f"https://www.youtube.com/watch/?v={VIDEO}", "video", VIDEO),
    ("https://www.youtube.com/watch?v=Zi%5FXLOBDo%5FY", "video", "Zi_XLOBDo_Y"),
    (f"https://www.youtube.com/watch?feature=player_embedded&amp;v={VIDEO}", "video", VIDEO),
    (f"HTTPS://WWW.YouTube.COM/watch?v={VIDEO}", "video", VIDEO),
    (f"//www.youtube.com/watch?v={VIDEO}", "video", VIDEO),
    (f"https://www.youtube.com:443/watch?v={VIDEO}", "video", VIDEO),
    (f"https://www.youtube.com./watch?v={VIDEO}", "video", VIDEO),
    (f"https://m.youtube.com/watch?v={VIDEO}&pp=ygUTRGV2", "video", VIDEO),
    (f"https://music.youtube.com/watch?v={VIDEO}&list=RDAMVM{VIDEO}", "video", VIDEO),
    # Videos: the id in the path.
    (f"https://www.youtube.com/watch/{VIDEO}", "video", VIDEO),
    (f"https://youtu.be/{VIDEO}", "video", VIDEO),
    (f"youtu.be/{VIDEO}?t=42", "video", VIDEO),
    (f"https://youtu.be/{VIDEO}?si=B_RZg_I-lLaa7UU-", "video", VIDEO),
    (f"https://youtu.be/{VIDEO}/", "video", VIDEO),
    (f"https://youtu.be/{VIDEO}&feature=share", "video", VIDEO),
    (f"https://www.youtube.com/shorts/{VIDEO}", "video", VIDEO),
    (f"https://youtube.com/shorts/{VIDEO}?feature=share", "video", VIDEO),
    (f"https://m.youtube.com/shorts/{VIDEO}", "video", VIDEO),
    (f"https://www.youtube.com/live/{VIDEO}?si=abcdEFGH1234", "video", VIDEO),
    (f"https://www.youtube.com/embed/{VIDEO}?start=30&autoplay=1", "video", VIDEO),
    (f"https://www.youtube-nocookie.com/embed/{VIDEO}", "video", VIDEO),
    (f"youtube-nocookie.com/embed/{VIDEO}?rel=0", "video", VIDEO),
    (f"https://www.youtube.com/v/{VIDEO}?version=3&autohide=1", "video", VIDEO),
    # Handles: the '@' is dropped, the case is kept, tabs are ignored.
    ("https://www.youtube.com/@MrBeast", "handle", "MrBeast"),
    ("youtube.com/@mkbhd/videos", "handle", "mkbhd"),
    ("https://www.youtube.com/@veritasium/shorts", "handle", "veritasium"),
    ("https://www.youtube.com/@NASA/featured?app=desktop", "handle", "NASA"),
    ("https://www.youtube.com/@kurzgesagt/", "handle", "kurzgesagt"),
    ("https://m.youtube.com/@some.one_2-x/streams", "handle", "some.one_2-x"),
    ("https://www.youtube.com/%40MrBeast", "handle", "MrBeast"),
    ("https://www.youtube.com/@abc", "handle", "abc"),
    ("https://www.youtube.com/@" + "a" * 30, "handle", "a" * 30),
    ("https://www.youtube.com/@%E6%97%A5%E6%9C%AC%E8%AA%9E", "handle", "日本語"),
    # Channel ids.
    (f"https://www.youtube.com/channel/{CHANNEL}", "channel", CHANNEL),
    (f"youtube.com/channel/{CHANNEL}/videos", "channel", CHANNEL),
    (f"https://m.youtube.com/channel/{CHANNEL}?view_as=subscriber", "channel", CHANNEL),
    (f"https://music.youtube.com/channel/{CHANNEL}", "channel", CHANNEL),
    (f"https://www.youtube.com/embed/live_stream?channel={CHANNEL}", "channel", CHANNEL),
    # Legacy custom names and user names.
    ("https://www.youtube.com/c/LinusTechTips", "custom", "LinusTechTips"),
    ("https://www.youtube.com/c/LinusTechTips/videos", "custom", "LinusTechTips"),
    ("https://www.youtube.com/user/PewDiePie", "user", "PewDiePie"),
    ("http://youtube.com/user/PewDiePie/featured/", "user", "PewDiePie"),
    # Playlists.
    (f"https://www.youtube.com/playlist?list={PLAYLIST}", "playlist", PLAYLIST),
    (f"youtube.com/playlist?si=xYz123&list={PLAYLIST}", "playlist", PLAYLIST),
    (f"https://m.youtube.com/playlist?list={UPLOADS}", "playlist", UPLOADS),
    (f"https://music.youtube.com/playlist?list={ALBUM}", "playlist", ALBUM),
    (f"https://www.youtube.com/embed/videoseries?list={PLAYLIST}", "playlist", PLAYLIST),
]

REJECTED = [
    # Nothing to parse.
    ("", "empty input"),
    ("   \t", "empty input"),
    ("@MrBeast", "bare @handle"),
    # Other hosts and look-alikes.
    (f"https://youtube.com.evil.com/watch?v={VIDEO}", "not a supported YouTube host"),
    (f"notyoutube.com/watch?v={VIDEO}", "not a supported YouTube host"),
    (f"https://youtu.be.example.org/{VIDEO}", "not a supported YouTube host"),
    (f"https://fakeyoutube.com/watch?v={VIDEO}", "not a supported YouTube host"),
    (f"https://youtube.co/watch?v={VIDEO}", "not a supported YouTube host"),
    (f"https://evil.com/youtube.com/watch?v={VIDEO}", "not a supported YouTube host"),
    (f"https://studio.youtube.com/channel/{CHANNEL}", "not a supported YouTube host"),
    (f"https://www.youtube.com@evil.com/watch?v={VIDEO}", "user name or password"),
    (f"https://evil.com\\@www.youtube.com/watch?v={VIDEO}", "backslashes"),
    (f"https://www.youtube.com/watch?v={VIDEO} and more", "spaces"),
    (f"https://www.youtube.com/watch?v=\u200b{VIDEO}", "invisible"),
    (f"https://www.youtube.com:8080/watch?v={VIDEO}", "unexpected port"),
    # Other schemes.
    (f"javascript:alert(1)//youtube.com/watch?v={VIDEO}", "scheme 'javascript'"),
    (f"ftp://youtube.com/watch?v={VIDEO}", "scheme 'ftp'"),
    ("data:text/html,youtube.com", "scheme 'data'"),
    # Malformed video ids, or none.
    (f"https://www.youtube.com/watch?v={VIDEO[:10]}", "not a valid YouTube video id"),
    (f"https://www.youtube.com/watch?v={VIDEO}Q", "not a valid YouTube video id"),
    ("https://www.youtube.com/watch?v=dQw4w9WgX!Q", "not a valid YouTube video id"),
    ("https://youtu.be/dQw4w9WgX%2FQ", "not a valid YouTube video id"),
    (f"https://www.youtube.com/shorts/{VIDEO}x", "not a valid YouTube video id"),
    ("https://www.youtube.com/watch?feature=share", "no v= parameter"),
    ("https://www.youtube.com/watch?v=", "no v= parameter"),
    (f"https://www.youtube.com/watch?list={PLAYLIST}", "no v= parameter"),
    (f"https://www.youtube.com/watch?v={VIDEO}&v=aaaaaaaaaaa", "conflicting v="),
    ("https://youtu.be/", "exactly one id"),
    ("https://www.youtube.com/shorts/", "exactly one id"),
    # Malformed channel ids and handles.
    ("https://www.youtube.com/channel/UCshort", "not a valid YouTube channel id"),
    ("https://www.youtube.com/channel/XX" + CHANNEL[2:], "not a valid YouTube channel id"),
    (f"https://www.youtube.com/channel/{CHANNEL}x", "not a valid YouTube channel id"),
    ("https://www.youtube.com/@ab", "not a valid YouTube handle"),
    ("https://www.youtube.com/@" + "a" * 31, "not a valid YouTube handle"),
    ("https://www.youtube.com/@bad!name", "not a valid YouTube handle"),
    ("https://www.youtube.com/@bad%20name", "not a valid YouTube handle"),
    ("https://www.youtube.com/@MrBeast/videos/extra", "unrecognised channel tab"),
    ("https://www.youtube.com/c/", "exactly one id"),
    # Pages that name no single video, channel or playlist.
    ("https://www.youtube.com/", "homepage"),
    ("youtube.com", "homepage"),
    ("https://www.youtube.com/results?search_query=cats", "/results is not"),
    ("https://www.youtube.com/feed/subscriptions", "/feed is not"),
    ("https://www.youtube.com/LinusTechTips", "/LinusTechTips is not"),
    ("https://www.youtube.com/playlist?list=WL", "not a valid YouTube playlist id"),
    ("https://www.youtube.com/embed/videoseries", "no list= parameter"),
    ("https://music.youtube.com/browse/MPREb_4pL8gzRtw1p", "only /watch, /playlist"),
    (f"https://www.youtube-nocookie.com/watch?v={VIDEO}", "only /embed/"),
]


@pytest.mark.parametrize(("text", "kind", "id_"), ACCEPTED)
def test_accepted(text: str, kind: Kind, id_: str) -> None:
    assert parse_youtube_url(text) == YoutubeRef(kind, id_)
    assert is_youtube_url(text)


@pytest.mark.parametrize(("text", "reason"), REJECTED)
def test_rejected(text: str, reason: str) -> None:
    with pytest.raises(NotYoutubeUrl) as raised:
        parse_youtube_url(text)
    message = str(raised.value)
    assert reason in message
    assert "\n" not in message
    assert not is_youtube_url(text)


def test_not_youtube_url_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_youtube_url("https://example.com/")
