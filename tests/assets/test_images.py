"""Processing with Pillow: thumbnails upright and bounded, JPEG quality 30 by default (WebP by
setting), no metadata carried over, the key a hash of what is stored, and broken or hostile
images refused with the reason."""

import hashlib
import io

import pytest
from PIL import Image

from assets.images import BadImage, process
from sandbox.assets.images import ORIENTATION, bomb_png, image_bytes, truncated_jpeg

PIXELS = 50_000_000


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_a_sideways_photo_is_stored_upright_without_its_exif() -> None:
    source = image_bytes(1, "jpg")  # stored sideways, EXIF orientation 6, GPS block
    with opened(source) as original:
        assert original.getexif()[ORIENTATION] == 6
        assert 0x8825 in original.getexif()
        sideways = original.size
    done = process(source, "JPEG", 1080, PIXELS)
    with opened(done.data) as thumb:
        assert thumb.format == "JPEG"
        assert not thumb.getexif() and "exif" not in thumb.info and "icc_profile" not in thumb.info
        assert thumb.size == (done.width, done.height)
    # Turned a quarter: the long side swapped.
    assert (done.width > done.height) == (sideways[1] > sideways[0])
    assert max(done.width, done.height) == 1080
    assert (done.source_width, done.source_height) == sideways


@pytest.mark.parametrize("ext, fmt", [("jpg", "JPEG"), ("png", "PNG"), ("webp", "WEBP")])
def test_every_format_becomes_a_small_jpeg_keyed_by_its_hash(ext: str, fmt: str) -> None:
    source = image_bytes(2, ext)
    done = process(source, fmt, 640, PIXELS)
    assert done.content_type == "image/jpeg" and done.extension == "jpg"
    assert max(done.width, done.height) <= 640
    assert done.sha256 == hashlib.sha256(done.data).hexdigest()
    assert len(done.data) < len(source) / 5
    assert process(source, fmt, 640, PIXELS).data == done.data, "same input, same key"


def test_quality_and_webp_are_settings() -> None:
    source = image_bytes(0, "jpg")
    low, high = process(source, "JPEG", 800, PIXELS), process(source, "JPEG", 800, PIXELS,
                                                               quality=90)
    assert len(low.data) < len(high.data) and low.sha256 != high.sha256
    webp = process(source, "JPEG", 800, PIXELS, output="webp")
    assert (webp.content_type, webp.extension) == ("image/webp", "webp")
    with opened(webp.data) as image:
        assert image.format == "WEBP"


def test_a_small_image_is_not_enlarged() -> None:
    source = image_bytes(3, "png")
    with opened(source) as original:
        size = original.size
    done = process(source, "PNG", 5000, PIXELS)
    assert (done.width, done.height) == size


def test_a_transparent_png_is_flattened_on_white() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (40, 40), (255, 0, 0, 0)).save(out, "PNG")
    done = process(out.getvalue(), "PNG", 100, PIXELS)
    with opened(done.data) as image:
        red, green, blue = image.convert("RGB").getpixel((20, 20))  # type: ignore[misc]
        assert min(red, green, blue) > 240


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(BadImage, match="decompression bomb"):
        process(bomb_png(), "PNG", 1080, PIXELS)


def test_the_pixel_limit_is_checked_from_the_header() -> None:
    source = image_bytes(4, "jpg")
    with pytest.raises(BadImage, match=r"pixels, over the 100000 decoded at most"):
        process(source, "JPEG", 1080, 100_000)


def test_a_truncated_jpeg_is_refused() -> None:
    with pytest.raises(BadImage, match="corrupt JPEG image: image file is truncated"):
        process(truncated_jpeg(), "JPEG", 1080, PIXELS)


def test_bytes_only_decode_as_the_format_they_announced() -> None:
    with pytest.raises(BadImage, match="not a readable JPEG image"):
        process(image_bytes(1, "png"), "JPEG", 1080, PIXELS)
