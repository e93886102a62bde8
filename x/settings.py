"""X's settings, read from the environment with the X_ prefix: the syndication and GraphQL
base URLs, the web app's bearer token (none by default: it is X's to publish, not ours) and
optional logged-in credentials for GraphQL."""

from typing import Annotated, ClassVar

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from core.config import Settings, split_list
from core.platforms import PlatformSettings, sandboxed

# The sandbox's built-in bearer and credential (`beat sandbox` knows them).
SANDBOX_BEARER = "sandbox-x-bearer"
SANDBOX_AUTH_TOKENS = ("sandbox-x-auth:sandbox-ct0",)


class XSettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="X_")
    platform: ClassVar[str] = "x"

    # The keyless answers behind embedded tweets (react-tweet, publish.twitter.com).
    syndication_url: str = "https://cdn.syndication.twimg.com"
    # The GraphQL API the web app asks as a guest; the 1.1 REST API beside it activates guests.
    graphql_url: str = "https://api.x.com/graphql"
    api_url: str = "https://api.x.com"
    # The web app's bearer token (sent with every GraphQL call; guests need it to activate).
    bearer_token: str | None = None
    # Logged-in credentials as AUTH_TOKEN:CT0 (the auth_token and ct0 cookies), comma-separated:
    # imported into the credential table (source x_graphql) when `beat worker` starts.
    auth_tokens: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The web app's GraphQL query ids (X changes them with its releases).
    tweet_query_id: str = "Xl5pC_lBk_gcO2ItU39DQw"
    user_query_id: str = "xmU6X_CKVnQ5lSrCbAmJsg"
    user_by_id_query_id: str = "CO4_gU4G_MRREoqfiTh6Hg"

    @field_validator("auth_tokens", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    @field_validator("auth_tokens")
    @classmethod
    def _pairs(cls, tokens: list[str]) -> list[str]:
        for token in tokens:
            auth, _, ct0 = token.partition(":")
            if not auth or not ct0:
                raise ValueError("each X credential is AUTH_TOKEN:CT0")
        return tokens

    def credentials(self) -> list[dict[str, str]]:
        """The configured credentials as credential secrets: {"auth_token", "ct0"}."""
        return [{"auth_token": t.partition(":")[0], "ct0": t.partition(":")[2]}
                for t in self.auth_tokens]

    def secrets(self) -> list[str]:
        found = [c[k] for c in self.credentials() for k in ("auth_token", "ct0")]
        return found + ([self.bearer_token] if self.bearer_token else [])

    def has_credentials(self) -> bool:
        return bool(self.bearer_token)

    def sandbox_env(self) -> dict[str, str]:
        return {"X_BEARER_TOKEN": SANDBOX_BEARER}

    def syndication_base_url(self, settings: Settings) -> str:
        return sandboxed(settings, "x/syndication", self.syndication_url)

    def graphql_base_url(self, settings: Settings) -> str:
        return sandboxed(settings, "x/graphql", self.graphql_url)

    def api_base_url(self, settings: Settings) -> str:
        return sandboxed(settings, "x/api", self.api_url)
