"""Beat's settings: one pydantic-settings class read from the environment (prefix-free names)."""

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class FlowOverride(BaseModel):
    """Per-flow settings that replace the flow's registered defaults."""

    processes: int | None = Field(default=None, ge=0)
    concurrency: int | None = Field(default=None, ge=1)
    max_attempts: int | None = Field(default=None, ge=1)
    timeout_s: float | None = Field(default=None, gt=0)
    priority: int | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = None
    redis_url: str | None = None
    amqp_url: str | None = None
    beat_home: Path = Path("~/.beat").expanduser()
    log_level: str = "INFO"

    # Extra modules imported at start-up that register flows (comma-separated or JSON list).
    flow_modules: Annotated[list[str], NoDecode] = []
    # JSON object: {"flow_name": {"processes": 2, "concurrency": 10, ...}}
    flow_overrides: dict[str, FlowOverride] = {}

    # Caps every flow's process count (`beat up` sets 1: one machine runs every flow).
    worker_process_cap: int | None = Field(default=None, ge=1)

    # Platforms. SANDBOX_URL routes every platform call to the sandbox (`beat sandbox`).
    sandbox_url: str | None = None
    youtube_api_keys: Annotated[list[str], NoDecode] = []
    youtube_api_url: str = "https://www.googleapis.com/youtube/v3"
    invidious_url: str | None = None
    graph_api_url: str = "https://graph.facebook.com/v19.0"

    # Rate limits (need REDIS_URL), as "N/window" specs: {"invidious": ["10/1s"]}. Per source
    # (on top of the seed's declared providers), per credential of a source, and for the live
    # profile endpoints (per handle, and across all of them).
    rate_limit_prefix: str = "beat:rl"
    source_limits: dict[str, list[str]] = {}
    credential_limits: dict[str, list[str]] = {}
    live_refresh_limits: list[str] = ["global:20000/day", "global:60/min"]
    live_refresh_handle_limit: str = "1/s"
    # Calls about one handle or channel, per source ("" for none).
    target_limit: str = "1/s"

    # Credentials and API access. BEAT_SECRET_KEY: Fernet key(s), comma-separated, the first
    # encrypts (unset: a key file under BEAT_HOME). API and admin keys: bearer tokens,
    # comma-separated; without API keys the server binds to loopback only.
    beat_secret_key: SecretStr | None = None
    beat_api_keys: Annotated[list[SecretStr], NoDecode] = []
    beat_admin_keys: Annotated[list[SecretStr], NoDecode] = []

    queue_claim_batch: int = Field(default=200, ge=1, le=5000)
    queue_lease_seconds: float = Field(default=30.0, gt=0)
    queue_poll_interval: float = Field(default=1.0, gt=0)
    queue_poll_only: bool = False
    queue_ack_flush_ms: float = Field(default=5.0, ge=0)
    queue_retention_days: float = Field(default=7.0, gt=0)
    queue_maintenance_interval: float = Field(default=5.0, gt=0)
    worker_shutdown_grace: float = Field(default=30.0, ge=0)
    # Seconds a cancelled task (past its timeout, or at shutdown) gets to stop; a worker process
    # holding one that is still running after that exits and the supervisor starts a new one.
    worker_cancel_grace: float = Field(default=5.0, gt=0)

    # Outbox relay (runs in the worker supervisor when AMQP_URL is set; core/relay.py).
    amqp_exchange: str = "beat.events"
    relay_batch: int = Field(default=500, ge=1, le=5000)
    relay_pipeline: int = Field(default=4, ge=1)
    relay_max_in_flight: int = Field(default=2000, ge=1)
    relay_claim_seconds: float = Field(default=30.0, gt=0)
    relay_publish_timeout: float = Field(default=10.0, gt=0)
    relay_max_attempts: int = Field(default=5, ge=1)
    relay_retry_seconds: float = Field(default=2.0, ge=0)
    relay_poll_interval: float = Field(default=0.02, gt=0)
    # Outbox retention, enforced by queue maintenance: SENT events this long after they were
    # sent; PARKED events, and PENDING ones when no relay runs (AMQP_URL unset: clients read
    # them with GET /events), this long after they occurred.
    events_retention_days: float = Field(default=1.0, gt=0)
    events_unsent_retention_days: float = Field(default=7.0, gt=0)
    events_parked_retention_days: float = Field(default=14.0, gt=0)

    server_host: str = "127.0.0.1"
    server_port: int = 8000
    max_body_bytes: int = 1_048_576
    max_bulk_body_bytes: int = 64 * 1_048_576

    @field_validator("flow_modules", "youtube_api_keys", "beat_api_keys", "beat_admin_keys",
                     mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        """A JSON list or a comma-separated string."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("beat_home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()


    def youtube_base_url(self) -> str:
        return f"{self.sandbox_url.rstrip('/')}/youtube/v3" if self.sandbox_url \
            else self.youtube_api_url

    def graph_base_url(self) -> str:
        return f"{self.sandbox_url.rstrip('/')}/graph" if self.sandbox_url \
            else self.graph_api_url

    def invidious_base_url(self) -> str | None:
        return f"{self.sandbox_url.rstrip('/')}/invidious" if self.sandbox_url \
            else self.invidious_url


@lru_cache
def get_settings() -> Settings:
    return Settings()
