"""Page tokens: the Data API's (a protobuf {1: offset, 2: direction} in base64, e.g. "CAUQAA"
for the page starting at item 5, "CAUQAQ" for the page before it) and Invidious continuations."""

import base64
import binascii


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_varint(raw: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = raw[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            return value, at


def page_token(offset: int, backward: bool = False) -> str:
    """The token of the page starting at `offset` (backward: of the page ending there)."""
    raw = b"\x08" + _varint(offset) + b"\x10" + (b"\x01" if backward else b"\x00")
    return base64.b64encode(raw).decode().rstrip("=")


def page_start(token: str | None, page_size: int) -> int | None:
    """Offset of the page a token names (0 without a token); None for a token we never made."""
    if not token:
        return 0
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
        if raw[:1] != b"\x08":
            return None
        offset, at = _read_varint(raw, 1)
        if raw[at:at + 1] != b"\x10" or raw[at + 1:] not in (b"\x00", b"\x01"):
            return None
    except (binascii.Error, IndexError, ValueError):
        return None
    return max(0, offset - page_size) if raw[at + 1:] == b"\x01" else offset


def continuation(*parts: str | int) -> str:
    """An opaque Invidious-style continuation carrying `parts`."""
    text = "\x1f".join(str(part) for part in parts)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def read_continuation(token: str, count: int) -> list[str] | None:
    """The `count` parts of a continuation made by `continuation`, or None."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    parts = text.split("\x1f")
    return parts if len(parts) == count else None
