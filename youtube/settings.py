"""YouTube's settings, read from the environment with the YOUTUBE_ prefix (INVIDIOUS_URL has no
prefix: an Invidious instance is not Google's)."""

from typing import Annotated, ClassVar

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from core.config import Settings, split_list
from core.platforms import PlatformSettings, sandboxed

# The sandbox's built-in Data API keys (`beat sandbox` knows them).
SANDBOX_KEYS = ("sandbox-key-1", "sandbox-key-2")


class YoutubeSettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="YOUTUBE_")
    platform: ClassVar[str] = "youtube"

    # Data API v3 keys (comma-separated or a JSON list): imported into the credential table
    # (encrypted) when `beat worker` starts; keys added later go through /tokens.
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    api_url: str = "https://www.googleapis.com/youtube/v3"
    # The keyless fallback: an Invidious instance (none by default).
    invidious_url: str | None = Field(
        default=None, validation_alias=AliasChoices("invidious_url", "INVIDIOUS_URL"))

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    def secrets(self) -> list[str]:
        return list(self.api_keys)

    def has_credentials(self) -> bool:
        return bool(self.api_keys)

    def sandbox_env(self) -> dict[str, str]:
        return {"YOUTUBE_API_KEYS": ",".join(SANDBOX_KEYS)}

    def data_api_url(self, settings: Settings) -> str:
        return sandboxed(settings, "youtube/v3", self.api_url)

    def invidious_base_url(self, settings: Settings) -> str | None:
        return sandboxed(settings, "invidious", "") if settings.sandbox_url \
            else self.invidious_url
