"""A toy platform, defined entirely in the test suite: flows, a document parser, a URL resolver,
settings and lookups. Registered through BEAT_PLATFORMS (or `core.platforms.register`), it must
show up everywhere a built-in platform does without any file outside the tests changing."""

from typing import Any, ClassVar, Literal
from urllib.parse import SplitResult

from pydantic import BaseModel, ConfigDict
from pydantic_settings import SettingsConfigDict

from core.lookups import InvalidId, Lookup, Lookups, Refresh
from core.normalized import Normalized
from core.parsing import UnknownShape
from core.platforms import NotALink, Platform, PlatformSettings

TOY_TABLE = """
CREATE TABLE IF NOT EXISTS toy_profile (
    id           bigserial PRIMARY KEY,
    handle       text NOT NULL UNIQUE,
    followers    bigint,
    refreshed_at timestamptz
)"""


class ToySettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="TOY_")
    platform: ClassVar[str] = "toy"

    token: str | None = None

    def secrets(self) -> list[str]:
        return [self.token] if self.token else []


def resolve(url: SplitResult) -> tuple[str, str]:
    parts = [p for p in url.path.split("/") if p]
    if len(parts) == 2 and parts[0] == "u" and parts[1].isalnum():
        return "profile", "@" + parts[1]
    if len(parts) == 2 and parts[0] == "p" and parts[1].isalnum():
        return "post", parts[1]
    raise NotALink(f"/{'/'.join(parts)} is not a toy profile or post")


def parse(document: Any) -> list[Normalized]:
    if not isinstance(document, dict) or not isinstance(document.get("users"), list):
        raise UnknownShape("not a toy users document")
    return [Normalized(platform="toy", kind="profile", id=str(user["handle"]),
                       followers=user.get("followers"), source="toy_api")
            for user in document["users"]]


class ToyProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["toy"]
    id: int
    handle: str
    followers: int | None
    refreshed_at: Any


def _by_handle(handle: str) -> Lookup:
    name = handle.lstrip("@")
    if not name.isalnum():
        raise InvalidId(f"{handle!r} is not a toy handle")

    async def fetch(pool: Any) -> dict[str, Any] | None:
        row = await pool.fetchrow("SELECT * FROM toy_profile WHERE handle = $1", name)
        return dict(row) if row else None

    return Lookup(fetch, Refresh("refresh_toy_profile", {"handle": name}, f"toy:{name}",
                                 live_target=name))


LOOKUPS = Lookups(profile_by_handle=_by_handle, profile_model=ToyProfile)

PLATFORM = Platform(name="toy", flows="tests.platforms.toy_flows",
                    parser="tests.platforms.toy:parse", hosts=frozenset({"toy.example"}),
                    resolve=resolve, settings=ToySettings,
                    lookups="tests.platforms.toy:LOOKUPS", description="a platform for tests")
