"""YouTube's settings, read from the environment with the YOUTUBE_ prefix (INVIDIOUS_URL has no
prefix: an Invidious instance is not Google's)."""

from typing import Annotated, ClassVar

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from core.config import Settings, split_list
from core.platforms import PlatformSettings, sandboxed

# The sandbox's built-in Data API keys (`beat sandbox` knows them).
SANDBOX_KEYS = ("sandbox-key-1", "sandbox-key-2")
# The sandbox's OAuth client, which its token endpoint knows (channel owners' tokens).
SANDBOX_OAUTH_CLIENT = ("sandbox-client.apps.googleusercontent.com", "sandbox-client-secret")


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

    # YouTube Analytics (owner-authorised reports) and the OAuth client that refreshes the
    # owners' access tokens (refresh tokens arrive through the identity_token listener).
    analytics_url: str = "https://youtubeanalytics.googleapis.com/v2"
    oauth_token_url: str = "https://oauth2.googleapis.com/token"
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = None

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    def secrets(self) -> list[str]:
        return [*self.api_keys, *([self.oauth_client_secret] if self.oauth_client_secret
                                  else [])]

    def has_credentials(self) -> bool:
        return bool(self.api_keys)

    def sandbox_env(self) -> dict[str, str]:
        return {"YOUTUBE_API_KEYS": ",".join(SANDBOX_KEYS),
                "YOUTUBE_OAUTH_CLIENT_ID": SANDBOX_OAUTH_CLIENT[0],
                "YOUTUBE_OAUTH_CLIENT_SECRET": SANDBOX_OAUTH_CLIENT[1]}

    def data_api_url(self, settings: Settings) -> str:
        return sandboxed(settings, "youtube/v3", self.api_url)

    def invidious_base_url(self, settings: Settings) -> str | None:
        return sandboxed(settings, "invidious", "") if settings.sandbox_url \
            else self.invidious_url

    def analytics_base_url(self, settings: Settings) -> str:
        return sandboxed(settings, "youtube/analytics/v2", self.analytics_url)

    def token_url(self, settings: Settings) -> str:
        return sandboxed(settings, "youtube/oauth2/token", self.oauth_token_url)
