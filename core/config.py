"""Beat's settings: one pydantic-settings class read from the environment (prefix-free names)."""

import base64
import binascii
import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

MAKE_KEY = "make one with `beat credentials generate-key`"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message is one line that says what to set."""


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
    # Session-level features: each worker process's LISTEN connection and the leader elections
    # of maintenance and the relay (session advisory locks) connect here when set, to
    # DATABASE_URL otherwise. Set it when DATABASE_URL goes through PgBouncer in transaction
    # mode, which breaks both: straight to PostgreSQL, or to a session-mode pool.
    database_session_url: str | None = None
    redis_url: str | None = None
    amqp_url: str | None = None
    beat_home: Path = Path("~/.beat").expanduser()
    log_level: str = "INFO"
    # Log lines: `json` (one object a line), `text` (`time LEVEL [pid] logger: message`), or
    # `auto`: text when stderr is a terminal, JSON otherwise (core/logs.py).
    log_format: Literal["auto", "json", "text"] = "auto"

    # Extra modules imported at start-up that register flows (comma-separated or JSON list).
    flow_modules: Annotated[list[str], NoDecode] = []
    # JSON object: {"flow_name": {"processes": 2, "concurrency": 10, ...}}
    flow_overrides: dict[str, FlowOverride] = {}

    # Caps every flow's process count (`beat up` sets 1: one machine runs every flow).
    worker_process_cap: int | None = Field(default=None, ge=1)
    # `flow`: each flow gets its own processes; `platform`: one set of processes per platform
    # runs all its flows (as many as its busiest flow asks; `beat up` uses it).
    worker_processes_per: Literal["flow", "platform"] = "flow"

    # Platforms. SANDBOX_URL routes every platform call to the sandbox (`beat sandbox`). Each
    # platform reads its own settings (its env prefix: YOUTUBE_...; core/platforms.py);
    # PLATFORM_SETTINGS ({"youtube": {"api_keys": [...]}}) overrides them. BEAT_PLATFORMS adds
    # platforms by "module:attribute" to those installed (comma-separated or JSON list).
    sandbox_url: str | None = None
    beat_platforms: Annotated[list[str], NoDecode] = []
    platform_settings: dict[str, dict[str, Any]] = {}

    # Rate limits (need REDIS_URL), as "N/window" specs: {"invidious": ["10/1s"]}. Per source,
    # per credential of a source, and for the live profile endpoints (per handle, and across
    # all of them).
    rate_limit_prefix: str = "beat:rl"
    source_limits: dict[str, list[str]] = {}
    credential_limits: dict[str, list[str]] = {}
    # Each credential's quota per source (a limit spec, e.g. "10000/day@America/Los_Angeles"):
    # a call takes its cost in units from it. Replaces the platform's default for that source.
    credential_quotas: dict[str, str] = {}
    live_refresh_limits: list[str] = ["global:20000/day", "global:60/min"]
    live_refresh_handle_limit: str = "1/s"
    # Calls about one handle or channel, per source ("" for none).
    target_limit: str = "1/s"

    # Credentials. BEAT_SECRET_KEY: Fernet key(s), comma-separated; the first encrypts, every
    # one decrypts, so rotation is `BEAT_SECRET_KEY=new,old` then `beat credentials rotate-key`
    # then `BEAT_SECRET_KEY=new`. Required whenever DATABASE_URL names a database server (every
    # host must read the same credentials); only the embedded database of `beat up` (a unix
    # socket) may go without, with a key file created under BEAT_HOME.
    beat_secret_key: SecretStr | None = None
    # API access: bearer keys, comma-separated; each is the key itself or `sha256:<64 hex>` (its
    # SHA-256, so the clear key need not be in the environment). Only hashes are kept in memory.
    # BEAT_API_KEYS are caller keys: enqueue, read and list tasks, read events, queue stats. A
    # caller key followed by `@acct1|acct2` is limited to those account_ids: it enqueues only
    # with one of them, reads and lists only their tasks, and has no access to /events or
    # /queue/stats (they span every account). BEAT_ADMIN_KEYS may do everything, including the
    # /tokens endpoints, PUT /heartbeat and task updates (cancel, requeue, priority). Without
    # any key the API serves loopback only (the server refuses any other address) and everything
    # but /tokens is open.
    beat_api_keys: Annotated[list[SecretStr], NoDecode] = []
    beat_admin_keys: Annotated[list[SecretStr], NoDecode] = []

    # The refresh scheduler (core/scheduler), run by the queue maintenance leader every
    # SCHEDULER_INTERVAL seconds (0: off). It spends at most a tick's share of what each
    # budget has left past SCHEDULER_RESERVE (a share of each budget kept for on-demand
    # calls), refreshes an item once SCHEDULER_REFRESH_AT of its target age has passed (most
    # urgent first: its age over its target age, counted up to SCHEDULER_STALENESS_CAP, times
    # its importance), and enqueues at most SCHEDULER_MAX_PER_TICK items a tick. An item whose
    # refresh failed waits SCHEDULER_BACKOFF_S before the next attempt, doubled with each
    # failure in a row (a permanent failure, e.g. not found, starts 4x further), up to
    # SCHEDULER_BACKOFF_MAX_S; a success ends it.
    scheduler_interval: float = Field(default=60.0, ge=0)
    scheduler_reserve: float = Field(default=0.2, ge=0, lt=1)
    scheduler_refresh_at: float = Field(default=0.8, gt=0, le=1)
    scheduler_staleness_cap: float = Field(default=2.0, ge=1)
    scheduler_max_per_tick: int = Field(default=10_000, ge=1, le=100_000)
    scheduler_backoff_s: float = Field(default=600.0, gt=0)
    scheduler_backoff_max_s: float = Field(default=86_400.0, gt=0)

    # Trending hashtags (core/hashtags): Redis keys under HASHTAGS_PREFIX (one hash tag, so one
    # Cluster slot), per-minute buckets kept HASHTAGS_MINUTES_KEPT minutes (the longest
    # trending window), per-hour buckets HASHTAGS_HOURS_KEPT hours (twice the longest
    # fastest-growing comparison), the mark of a counted event HASHTAGS_SEEN_DAYS days.
    hashtags_prefix: str = Field(default="beat:tags", min_length=1, max_length=100,
                                 pattern=r"^[^{}]+$")
    hashtags_minutes_kept: int = Field(default=1440, ge=1, le=10_080)
    hashtags_hours_kept: int = Field(default=336, ge=2, le=8760)
    hashtags_seen_days: float = Field(default=7.0, gt=0)

    # The optional ClickHouse sink (core/clickhouse, `beat sink clickhouse`): a full snapshot
    # of the entity of each entity event of AMQP_EXCHANGE (read from DATABASE_URL) into
    # CLICKHOUSE_DATABASE at CLICKHOUSE_URL, in batches of
    # CLICKHOUSE_BATCH_ROWS rows or every CLICKHOUSE_FLUSH_SECONDS, whichever comes first.
    clickhouse_url: str | None = None
    clickhouse_database: str = Field(default="beat", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    clickhouse_batch_rows: int = Field(default=1000, ge=1, le=100_000)
    clickhouse_flush_seconds: float = Field(default=5.0, gt=0)

    queue_claim_batch: int = Field(default=500, ge=1, le=5000)
    queue_lease_seconds: float = Field(default=30.0, gt=0)
    queue_poll_interval: float = Field(default=1.0, gt=0)
    queue_poll_only: bool = False
    queue_ack_flush_ms: float = Field(default=5.0, ge=0)
    # Ack statements a worker process may have in flight at once.
    queue_ack_flushes: int = Field(default=3, ge=1, le=16)
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
    # Snapshot tables (profile_log, post_log), partitioned by month (core/partitions.py): queue
    # maintenance keeps LOG_PARTITIONS_AHEAD months ready past the current one and drops the
    # months older than the current one minus LOG_RETENTION_MONTHS (unset: keeps every month).
    log_partitions_ahead: int = Field(default=2, ge=0, le=24)
    log_retention_months: int | None = Field(default=None, ge=1)
    # Seconds between refreshes of the leaderboard view by the maintenance leader (0: never;
    # `beat leaderboard --refresh` refreshes it at once).
    leaderboard_refresh_interval: float = Field(default=3600.0, ge=0)
    # Sort memory of the refresh's connection (its 48 rank windows sort every profile).
    leaderboard_work_mem: str = Field(default="256MB", pattern=r"^[1-9][0-9]{0,6}(kB|MB|GB)$")

    # Google Sheets (`beat links --sheet`): a service account, as the path of its JSON key file
    # or the JSON itself (a secret: never printed); the sheet must be shared with its email.
    # SHEETS_API_URL is the Sheets API v4 base (under SANDBOX_URL + "/sheets" in sandbox mode).
    google_service_account_file: Path | None = None
    google_service_account_json: SecretStr | None = None
    sheets_api_url: str = "https://sheets.googleapis.com/"

    # Metrics (core/metrics.py). PROMETHEUS_MULTIPROC_DIR: the directory where every process
    # of this host writes its samples (prometheus_client's multiprocess mode; empty it before
    # the processes start); without it the worker supervisor uses a private one. With
    # WORKER_METRICS_PORT, `beat worker` serves its processes' metrics at
    # http://WORKER_METRICS_HOST:WORKER_METRICS_PORT/metrics.
    prometheus_multiproc_dir: Path | None = None
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_metrics_host: str = "127.0.0.1"

    server_host: str = "127.0.0.1"
    server_port: int = 8000
    max_body_bytes: int = 1_048_576
    max_bulk_body_bytes: int = 64 * 1_048_576

    @field_validator("flow_modules", "beat_platforms", "beat_api_keys", "beat_admin_keys",
                     mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("beat_home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    def session_database_url(self) -> str | None:
        """Where LISTEN and session advisory locks go (DATABASE_SESSION_URL, or DATABASE_URL)."""
        return self.database_session_url or self.database_url

    def database_is_local_socket(self) -> bool:
        """Whether DATABASE_URL reaches PostgreSQL over a unix socket (the embedded database of
        `beat up`), so no other host can share it."""
        return _is_socket_url(self.database_url or "")

    def secret_keys(self) -> list[str]:
        """BEAT_SECRET_KEY split and checked (each a Fernet key); [] when unset and allowed.
        ConfigError (one line, no key echoed) when malformed, or unset with a database server."""
        value = self.beat_secret_key.get_secret_value() if self.beat_secret_key else ""
        keys = [key.strip() for key in value.split(",") if key.strip()]
        if not keys:
            if self.database_url and not self.database_is_local_socket():
                raise ConfigError("BEAT_SECRET_KEY is not set: with a database server "
                                  "(DATABASE_URL) every host must use the same key to read "
                                  f"the stored credentials; {MAKE_KEY} and set it everywhere")
            return []
        for number, key in enumerate(keys, 1):
            if not _is_fernet_key(key):
                which = f"key {number} of {len(keys)}" if len(keys) > 1 else "it"
                raise ConfigError(f"BEAT_SECRET_KEY is malformed: {which} is not a Fernet key "
                                  f"(32 url-safe base64-encoded bytes); {MAKE_KEY}")
        return keys


def split_list(value: Any) -> Any:
    """A JSON list or a comma-separated string, as a list (anything else as it is)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (binascii.Error, ValueError):
        return False


def _is_socket_url(url: str) -> bool:
    """A libpq URL without a TCP host: no host (`postgresql:///db`, the default socket) or a
    directory as host (`postgresql://u@/db?host=/run/pg`, how `beat up` reaches its database)."""
    _, separator, rest = url.partition("://")
    if not separator:
        return False  # not a URL at all: assume a server
    netloc, _, tail = rest.partition("/")
    query = tail.partition("?")[2]
    hosts = [unquote(value) for name, _, value in (p.partition("=") for p in query.split("&"))
             if name == "host"]
    if hosts:
        return all(host.startswith("/") for host in hosts)
    host_port = netloc.rpartition("@")[2]
    return host_port == "" or host_port.startswith(":")


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment; ConfigError (one line) when one is malformed."""
    try:
        return Settings()
    except (ValidationError, SettingsError) as exc:
        raise ConfigError(settings_problem(exc)) from None


def settings_problem(exc: ValidationError | SettingsError, prefix: str = "") -> str:
    """What is wrong with the settings, by name, never quoting a value (key lists hold
    secrets, and a typo in one would otherwise print them)."""
    if isinstance(exc, SettingsError):  # a value that should be JSON and is not
        field = str(exc).partition('field "')[2].partition('"')[0]
        return f"{(prefix + field).upper() if field else 'a setting'}: not valid JSON"
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        setting, *within = (str(part) for part in error["loc"])
        problems.append(f"{'.'.join([(prefix + setting).upper(), *within])}: {error['msg']}")
    return "malformed setting: " + "; ".join(problems)
