"""JSON bodies serialized as the real services write them (byte-stable for a given content)."""

import json
from typing import Any

from starlette.responses import Response


class GoogleJSON(Response):
    """Google APIs: pretty-printed with two spaces, UTF-8, "<" and ">" escaped as \\u003c/e."""

    media_type = "application/json; charset=UTF-8"

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, indent=2, ensure_ascii=False)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").encode()


class CompactJSON(Response):
    """Invidious (Crystal's JSON.build): compact, UTF-8."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()
