"""What a platform's stored posts say and who wrote them, declared as columns of its post table
(`Platform.post_text`), so that core can read a post's text for the hashtag counts and build the
analytics reports over every platform without naming one."""

import re
from dataclasses import dataclass

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def not_plain(*names: str) -> list[str]:
    """The names that are no plain lower-case SQL identifier (columns declared by platforms are
    put into SQL as they are, so they must be)."""
    return [name for name in names if not _IDENTIFIER.match(name)]


@dataclass(frozen=True, slots=True)
class PostText:
    """Columns of the platform's post table: `key` is the id its post events carry as
    `entity_key`; `texts` are concatenated (caption; title and description; message and title)
    for hashtags; `published` is when the post went out (NULL: the row's `stored` time stands
    in); `author` is the profile id of who posted it, `engagement` the counts summed as its
    engagement (NULLs count 0)."""

    table: str
    key: str
    texts: tuple[str, ...]
    published: str
    author: str
    engagement: tuple[str, ...]
    stored: str = "created_at"

    def __post_init__(self) -> None:
        names = (self.table, self.key, self.published, self.author, self.stored,
                 *self.texts, *self.engagement)
        bad = not_plain(*names)
        if bad or not self.texts or not self.engagement:
            raise ValueError(f"post text of {self.table}: columns must be plain lower-case "
                             f"identifiers, with some texts and engagement counts ({bad})")

    def text_sql(self, alias: str = "p") -> str:
        """The SQL expression of the post's whole text (never NULL)."""
        return "concat_ws(' ', " + ", ".join(f"{alias}.{c}" for c in self.texts) + ")"

    def time_sql(self, alias: str = "p") -> str:
        """When the post counts as posted: published, else first stored."""
        return f"coalesce({alias}.{self.published}, {alias}.{self.stored})"

    def engagement_sql(self, alias: str = "p") -> str:
        return " + ".join(f"coalesce({alias}.{c}, 0)" for c in self.engagement)


@dataclass(frozen=True, slots=True)
class CommentThreads:
    """Columns of the platform's comment table, for platforms whose comments have replies:
    `key` the comment's id, `parent` the id of the comment it replies to (NULL: a top-level
    comment), `post` the post it is under, `likes` its likes."""

    table: str
    key: str
    parent: str
    post: str
    likes: str

    def __post_init__(self) -> None:
        bad = not_plain(self.table, self.key, self.parent, self.post, self.likes)
        if bad:
            raise ValueError(f"comment threads of {self.table}: not plain identifiers: {bad}")
