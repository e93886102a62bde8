"""Deterministic randomness and YouTube-looking identifiers for the sandbox.

Everything the sandbox invents comes from a seed: the world's structure from one
`random.Random(seed)`, per-item details from a BLAKE2b digest of (seed, item id), so an item can
be generated alone, lazily, and always the same. Nothing here reads the clock or os.urandom.
"""

import base64
import hashlib
import math
import random
from datetime import UTC, datetime

_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def digest(seed: int, *parts: str | int) -> bytes:
    """32 bytes that depend only on the seed and the parts."""
    text = "\x1f".join([str(seed), *(str(part) for part in parts)])
    return hashlib.blake2b(text.encode(), digest_size=32).digest()


def rng_for(seed: int, *parts: str | int) -> random.Random:
    """A Random seeded from (seed, parts): the lazy generator of one item's details."""
    return random.Random(int.from_bytes(digest(seed, *parts), "big"))


def unit(seed: int, *parts: str | int) -> float:
    """A uniform float in [0, 1) from (seed, parts)."""
    return int.from_bytes(digest(seed, *parts)[:7], "big") / float(1 << 56)


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    """A heavy-tailed positive number around `median`."""
    return median * math.exp(rng.gauss(0.0, sigma))


def b64url(raw: bytes, length: int) -> str:
    """The first `length` characters of raw's unpadded URL-safe base64."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")[:length]


def b64std(text: str) -> str:
    """Standard base64 of a text, padded (playlist item ids are base64 of "playlist.item")."""
    return base64.b64encode(text.encode()).decode()


def video_id(raw: bytes) -> str:
    """An 11-character video id from 8 bytes (YouTube ids are 64-bit numbers in base64)."""
    return b64url(raw[:8], 11)


def channel_id(raw: bytes) -> str:
    """A channel id: "UC" + 22 characters from 16 bytes, as YouTube channel ids."""
    return "UC" + b64url(raw[:16], 22)


def playlist_id(raw: bytes) -> str:
    """A user playlist id: "PL" + 32 characters."""
    return "PL" + b64url(raw[:24], 32)


def uploads_playlist_of(channel: str) -> str:
    """The uploads playlist of a channel: "UU" + the channel id after its "UC"."""
    return "UU" + channel[2:]


def channel_of_uploads(playlist: str) -> str | None:
    """The channel whose uploads playlist this is, or None for another playlist."""
    return "UC" + playlist[2:] if playlist.startswith("UU") and len(playlist) == 24 else None


def comment_id(raw: bytes) -> str:
    """A 26-character comment id: "Ug" + one of wxyz + 16 characters + "4AaABAg"."""
    return "Ug" + "wxyz"[raw[0] % 4] + b64url(raw[1:13], 16) + "4AaABAg"


def token_chars(raw: bytes, length: int) -> str:
    """`length` URL-safe characters (for thumbnail and banner paths)."""
    out = "".join(_URLSAFE[b % 64] for b in raw)
    while len(out) < length:
        raw = hashlib.blake2b(raw, digest_size=32).digest()
        out += "".join(_URLSAFE[b % 64] for b in raw)
    return out[:length]


def etag(*parts: str | int) -> str:
    """A 27-character etag (URL-safe base64 of a SHA-1), as the Data API's current etags."""
    text = "\x1f".join(str(part) for part in parts)
    return b64url(hashlib.sha1(text.encode()).digest(), 27)


def rfc3339(moment: datetime) -> str:
    """2019-03-21T20:37:49Z, as the Data API writes publishedAt."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_duration(seconds: int) -> str:
    """ISO-8601 duration as YouTube writes it: PT7M36S, PT1H2M, P1DT2H3M4S, P0D."""
    if seconds <= 0:
        return "P0D"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return ("P" + (f"{days}D" if days else "")) + (f"T{time}" if time else "")


def three_significant(value: int) -> int:
    """Rounded down to three significant figures, as YouTube reports subscriber counts."""
    if value < 1000:
        return value
    scale = 10 ** (len(str(value)) - 3)
    return int(value // scale * scale)
