"""Which hashtags a text holds: `#` then word characters, not inside a word (`a#b` and URL
fragments are not hashtags), lower-cased, each once, in order of first use. PostgreSQL's
`(?<!\\w)#(\\w+)` with lower() finds the same ones (the tests recount with it)."""

import re

HASHTAG = re.compile(r"(?<!\w)#(\w+)")
MAX_LENGTH = 100  # longer runs are noise (or an attack on the key space): cut


def hashtags(text: str | None) -> list[str]:
    """The distinct hashtags of `text`, lower-cased, in order of first use."""
    if not text:
        return []
    found = (match.group(1).lower()[:MAX_LENGTH] for match in HASHTAG.finditer(text))
    return list(dict.fromkeys(found))
