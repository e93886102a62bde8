"""What only X's sources raise, on top of core.errors: a deleted tweet (a tombstone or an
empty answer: NotFound under its own kind) and a protected account's tweet (Permanent: no
retry shows it without following the account)."""

from core.errors import NotFound, Permanent

__all__ = ["Deleted", "NotFound", "Protected"]


class Deleted(NotFound):
    """The tweet was deleted (or never existed): X answers with a tombstone or nothing."""

    kind = "deleted"


class Protected(Permanent):
    """The tweet belongs to a protected account: only its approved followers can see it."""

    kind = "private"
