"""Named SQL blocks: a `.sql` file where `-- name: x` starts the statement called x."""

import re
from functools import cache
from pathlib import Path


@cache
def load(path: Path) -> dict[str, str]:
    blocks = re.split(r"^-- name: (\w+)\s*$", path.read_text(), flags=re.MULTILINE)
    return {name: body.strip().rstrip(";") for name, body in zip(blocks[1::2], blocks[2::2])}
