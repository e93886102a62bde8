"""The enrichment's settings, read from the environment (OPENAI_* as the OpenAI SDK spells
them, ENRICHMENT_* for the rest): which OpenAI-compatible server answers, with which model and
key, what its tokens cost, and how much of a profile goes into a prompt. In sandbox mode
(SANDBOX_URL) the chat calls go to the sandbox's /v1, with its key when none is set."""

from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from core.config import Settings, split_list
from core.platforms import PlatformSettings, sandboxed

SOURCE = "openai_chat"  # the chat model as a source: its limits, its breaker
OPENAI_URL = "https://api.openai.com/v1"
SANDBOX_KEY = "sk-sandbox-beat"  # the sandbox takes any key; this one says where it came from


class EnrichmentSettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="")
    platform: ClassVar[str] = "enrichment"

    # Any OpenAI-compatible server: OpenAI, Azure's /openai/v1, vLLM, Ollama, LiteLLM ...
    openai_base_url: str = OPENAI_URL
    openai_api_key: SecretStr | None = None
    openai_model: str = Field(default="gpt-4o-mini", min_length=1)
    openai_timeout_s: float = Field(default=60.0, gt=0, le=600)
    # USD per million tokens, prompt and completion (gpt-4o-mini's list prices by default).
    openai_price_input_per_mtok: float = Field(default=0.15, ge=0)
    openai_price_output_per_mtok: float = Field(default=0.60, ge=0)
    # Directories of prompt YAML files besides the built-in enrichment/prompts/; a file there
    # with a higher version of a prompt wins (a prompt change without a release).
    enrichment_prompt_dirs: Annotated[list[Path], NoDecode] = Field(default_factory=list)
    # How much of a profile a prompt sees: its newest posts' captions, and their comments.
    enrichment_recent_posts: int = Field(default=12, ge=0, le=50)
    enrichment_comments: int = Field(default=60, ge=0, le=500)

    @field_validator("enrichment_prompt_dirs", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    def secrets(self) -> list[str]:
        return [self.openai_api_key.get_secret_value()] if self.openai_api_key else []

    def base_url(self, settings: Settings) -> str:
        return sandboxed(settings, "v1", self.openai_base_url)

    def api_key(self, settings: Settings) -> str | None:
        """The configured key; in sandbox mode without one, the sandbox's."""
        if self.openai_api_key is not None:
            return self.openai_api_key.get_secret_value()
        return SANDBOX_KEY if settings.sandbox_url else None

    def cost_usd(self, tokens_in: int, tokens_out: int) -> float:
        return round((tokens_in * self.openai_price_input_per_mtok
                      + tokens_out * self.openai_price_output_per_mtok) / 1_000_000, 8)
