"""Facebook's settings, read from the environment with the FACEBOOK_ prefix. The Graph API's base
URL is the shared GRAPH_API_URL (credentials.graph) in real mode; in sandbox mode the sandbox
serves Facebook's Graph API under {SANDBOX_URL}/facebook/graph (its /graph belongs to
Instagram's)."""

from typing import Annotated, ClassVar

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from core.config import Settings, split_list
from core.platforms import PlatformSettings, sandboxed
from credentials.graph import GraphSettings

# The sandbox's built-in page token (`beat sandbox` knows it: sandbox/graph/debug_token.py).
SANDBOX_GRAPH_TOKENS = ("sandbox-graph-token",)


class FacebookSettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="FACEBOOK_")
    platform: ClassVar[str] = "facebook"

    # Page or user access tokens, comma-separated: imported into the credential table
    # (encrypted) when `beat worker` starts.
    graph_tokens: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("graph_tokens", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    @field_validator("graph_tokens")
    @classmethod
    def _plain(cls, tokens: list[str]) -> list[str]:
        for token in tokens:
            if ":" in token or not token.strip():
                raise ValueError("each Facebook Graph API token is the token alone (no id:)")
        return tokens

    def secrets(self) -> list[str]:
        return list(self.graph_tokens)

    def has_credentials(self) -> bool:
        return bool(self.graph_tokens)

    def sandbox_env(self) -> dict[str, str]:
        return {"FACEBOOK_GRAPH_TOKENS": ",".join(SANDBOX_GRAPH_TOKENS)}

    def graph_api_url(self, settings: Settings) -> str:
        return sandboxed(settings, "facebook/graph", GraphSettings().graph_api_url)
