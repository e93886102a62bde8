"""What only Instagram's sources raise, on top of core.errors: a private account (Permanent: no
retry shows its posts) and an unknown one (core's NotFound, re-exported so that Instagram code
imports both from one place)."""

from core.errors import NotFound, Permanent

__all__ = ["NotFound", "Private"]


class Private(Permanent):
    """The account is private: its posts and related accounts are not public."""

    kind = "private"
