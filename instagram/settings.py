"""Instagram's settings, read from the environment with the INSTAGRAM_ prefix. The Graph API's
base URL is the shared GRAPH_API_URL (credentials.graph), as for every Graph-based platform."""

from typing import Annotated, ClassVar

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from core.config import Settings, split_list
from core.platforms import PlatformSettings, sandboxed
from credentials.graph import GraphSettings

# The sandbox's built-in credentials (`beat sandbox` knows them): a Graph API token of the
# business account that asks (IG user id:token), and a RapidAPI-style key.
SANDBOX_GRAPH_TOKENS = ("17841400000000101:sandbox-graph-token",)
SANDBOX_RAPIDAPI_KEYS = ("sandbox-rapidapi-key",)


class InstagramSettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="INSTAGRAM_")
    platform: ClassVar[str] = "instagram"

    # Graph API tokens as IG_USER_ID:TOKEN (the business account that asks business_discovery
    # and owns the insights), comma-separated: imported into the credential table (encrypted)
    # when `beat worker` starts.
    graph_tokens: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # RapidAPI-style provider keys (comma-separated), its base URL and X-RapidAPI-Host.
    rapidapi_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    rapidapi_url: str = "https://rocketapi-for-instagram.p.rapidapi.com"
    rapidapi_host: str = "rocketapi-for-instagram.p.rapidapi.com"
    # The keyless web JSON (public profiles and posts).
    web_url: str = "https://www.instagram.com"

    @field_validator("graph_tokens", "rapidapi_keys", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    @field_validator("graph_tokens")
    @classmethod
    def _pairs(cls, tokens: list[str]) -> list[str]:
        for token in tokens:
            user_id, _, secret = token.partition(":")
            if not user_id.isdigit() or not secret:
                raise ValueError("each Graph API token is IG_USER_ID:TOKEN")
        return tokens

    def graph_credentials(self) -> list[dict[str, str]]:
        """The Graph API tokens as credential secrets: {"user_id", "token"}."""
        return [{"user_id": t.partition(":")[0], "token": t.partition(":")[2]}
                for t in self.graph_tokens]

    def secrets(self) -> list[str]:
        return [c["token"] for c in self.graph_credentials()] + list(self.rapidapi_keys)

    def has_credentials(self) -> bool:
        return bool(self.graph_tokens or self.rapidapi_keys)

    def sandbox_env(self) -> dict[str, str]:
        return {"INSTAGRAM_GRAPH_TOKENS": ",".join(SANDBOX_GRAPH_TOKENS),
                "INSTAGRAM_RAPIDAPI_KEYS": ",".join(SANDBOX_RAPIDAPI_KEYS)}

    def graph_api_url(self, settings: Settings) -> str:
        return GraphSettings().base_url(settings)

    def rapidapi_base_url(self, settings: Settings) -> str:
        return sandboxed(settings, "rapidapi/instagram", self.rapidapi_url)

    def web_base_url(self, settings: Settings) -> str:
        return sandboxed(settings, "instagram-web", self.web_url)
