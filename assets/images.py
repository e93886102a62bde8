"""Turning a downloaded image into the stored thumbnail with Pillow: the pixel count is checked
from the header before any pixel is decoded (a decompression bomb is refused, not decoded),
only the format the bytes announced may decode, EXIF orientation is applied, and the output is
a fresh JPEG (quality 30 by default, as the thumbnails Beat grew from) or WebP that carries no
metadata at all: no EXIF (GPS, camera serials), no ICC profile, no comments.

The key is the SHA-256 of the processed bytes: what is stored is what is addressed, the same
picture fetched from two URLs (or twice) is stored once, and changing the size or quality
settings makes new keys rather than overwriting objects already served."""

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import Permanent

# Our own check runs first; Pillow's stays as a second line (its warning made an error).
Image.MAX_IMAGE_PIXELS = 100_000_000
warnings.simplefilter("error", Image.DecompressionBombWarning)
EXTENSIONS = {"jpeg": "jpg", "webp": "webp"}
CONTENT_TYPES = {"jpeg": "image/jpeg", "webp": "image/webp"}


class BadImage(Permanent):
    """The image cannot be used: corrupt, truncated, too large to decode, or not the format
    its bytes announce."""

    kind = "bad_image"


@dataclass(frozen=True, slots=True)
class Processed:
    data: bytes
    sha256: str
    width: int
    height: int
    content_type: str
    extension: str
    source_width: int
    source_height: int


def process(data: bytes, source_format: str, max_side: int, max_pixels: int,
            output: str = "jpeg", quality: int = 30) -> Processed:
    """The thumbnail of `data` (at most `max_side` on its longest side) in `output` format."""
    try:
        with Image.open(io.BytesIO(data), formats=[source_format]) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise BadImage(f"{width}x{height} is {width * height} pixels, over the "
                               f"{max_pixels} decoded at most (a decompression bomb?)")
            if source_format == "JPEG":
                # Decode at 1/2, 1/4 or 1/8 scale straight away when that still covers the
                # thumbnail: a fraction of the time and memory of a full decode.
                image.draft("RGB", (max_side, max_side))
            image.load()
            thumb = _thumbnail(image, max_side)
    except BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage(f"refused to decode: {exc}") from None
    except UnidentifiedImageError:
        raise BadImage(f"not a readable {source_format} image") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise BadImage(f"corrupt {source_format} image: {exc}") from None
    encoded = _encode(thumb, output, quality)
    return Processed(encoded, hashlib.sha256(encoded).hexdigest(), thumb.width, thumb.height,
                     CONTENT_TYPES[output], EXTENSIONS[output], width, height)


def _thumbnail(image: Image.Image, max_side: int) -> Image.Image:
    """Upright, RGB (transparency on white), no larger than max_side x max_side."""
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # an animation: its first frame
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P"
                                                 and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        upright = flat
    elif upright.mode != "RGB":
        upright = upright.convert("RGB")
    upright.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
    return upright


def _encode(image: Image.Image, output: str, quality: int) -> bytes:
    """A new file from the pixels alone: no exif, icc_profile or comment is passed on."""
    out = io.BytesIO()
    if output == "webp":
        image.save(out, "WEBP", quality=quality, method=4)
    else:
        image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()
