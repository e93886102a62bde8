"""What only Facebook's source raises, on top of core.errors: content the token may not read (a
private post, a page that needs a permission the token lacks): Permanent, no retry shows it."""

from core.errors import Permanent


class Private(Permanent):
    """The post or page is not visible to the token: private, restricted or unpublished."""

    kind = "private"
