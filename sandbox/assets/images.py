"""Deterministic generated images: image `n` is the same bytes in every run (a seeded mix of
gradients, shapes and noise, so it compresses like a photo), 100 KB to 2 MB; and the broken
ones the hostile routes serve."""

import io
import random
import struct
import zlib
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter

FORMATS = {"jpg": ("JPEG", "image/jpeg"), "png": ("PNG", "image/png"),
           "webp": ("WEBP", "image/webp")}
ORIENTATION = 0x0112  # EXIF tag: how the camera was held


@lru_cache(maxsize=512)  # a benchmark reads each image once after a warm-up pass
def image_bytes(n: int, ext: str) -> bytes:
    """Image `n` as `ext` (jpg, png, webp). Every fourth JPEG is stored sideways with an EXIF
    orientation of 6 (rotate 90° to view) and a GPS-bearing EXIF block, as phones write them."""
    rng = random.Random(n * 7919 + len(ext))
    kind, _ = FORMATS[ext]
    side = {"JPEG": (900, 2200), "PNG": (260, 520), "WEBP": (700, 1500)}[kind]
    width, height = rng.randint(*side), rng.randint(*side)
    image = _picture(rng, width, height)
    out = io.BytesIO()
    if kind == "JPEG":
        exif = Image.Exif()
        exif[0x010F] = "Beat sandbox camera"  # Make
        if n % 4 == 1:
            exif[ORIENTATION] = 6
            exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPSInfo: a location to strip
        image.save(out, "JPEG", quality=rng.randint(88, 95), exif=exif.tobytes())
    elif kind == "PNG":
        image.save(out, "PNG", compress_level=1)
    else:
        image.save(out, "WEBP", quality=rng.randint(85, 95))
    return out.getvalue()


def _picture(rng: random.Random, width: int, height: int) -> Image.Image:
    """Shapes drawn at a quarter of the size and scaled up (soft, like a photo), with grain."""
    small = (max(1, width // 4), max(1, height // 4))
    base = Image.linear_gradient("L").resize(small).convert("RGB")
    tint = Image.new("RGB", small, tuple(rng.randint(0, 255) for _ in range(3)))
    image = Image.blend(base, tint, 0.5)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(10, 30)):
        x, y = rng.randint(0, small[0]), rng.randint(0, small[1])
        r = rng.randint(3, max(4, small[0] // 4))
        draw.ellipse((x - r, y - r, x + r, y + r),
                     fill=tuple(rng.randint(0, 255) for _ in range(3)))
    image = image.filter(ImageFilter.GaussianBlur(1)).resize((width, height),
                                                             Image.Resampling.BILINEAR)
    grain = Image.new("RGB", (width, height))
    tile = _grain()
    dx, dy = rng.randrange(tile.width), rng.randrange(tile.height)
    for x in range(-dx, width, tile.width):
        for y in range(-dy, height, tile.height):
            grain.paste(tile, (x, y))
    return Image.blend(image, grain, 0.2)


@lru_cache(maxsize=1)
def _grain() -> Image.Image:
    """Seeded noise: the same tile in every process and run (Pillow's effect_noise draws from
    the C library's generator, which differs between processes), so image n is too."""
    rng = random.Random(509_503)
    return Image.frombytes("RGB", (509, 503), rng.randbytes(509 * 503 * 3))


@lru_cache(maxsize=1024)
def thumbnail_jpeg(key: str) -> bytes:
    """A platform's image at `key` (host and path of its CDN URL): a thumbnail-sized JPEG, the
    same bytes for the same key in every process and run, different for another key."""
    rng = random.Random(zlib.crc32(key.encode()))
    image = _picture(rng, rng.randint(320, 640), rng.randint(240, 480))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def truncated_jpeg() -> bytes:
    """A real JPEG cut in the middle of its scan data."""
    whole = image_bytes(2, "jpg")
    return whole[: len(whole) // 2]


@lru_cache(maxsize=1)
def bomb_png(side: int = 40_000) -> bytes:
    """A valid 1-bit PNG of side x side pixels (1.6 gigapixels, 8 GB as RGB once decoded)
    whose file is a few hundred KB: rows of zeros compress about a thousand to one."""
    row = b"\x00" + bytes((side + 7) // 8)
    squeeze = zlib.compressobj(9)
    rows = [squeeze.compress(row * 1000) for _ in range(side // 1000)]
    compressed = b"".join(rows) + squeeze.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", compressed)
            + chunk(b"IEND", b""))
