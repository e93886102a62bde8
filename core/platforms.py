"""The platform contract: what a platform package tells Beat about itself, and the registry.

A platform package (e.g. `youtube`) exports one `Platform` from its `__init__.py` and names it
in the `beat.platforms` entry points of its distribution; BEAT_PLATFORMS adds more by
"module:attribute" (a separate package, a test). Core, the server, the CLI, the listeners and
the credential checks learn platforms only from `registry()`: nothing outside a platform's
package names it.

The parts a platform fills in, each optional but its name:

    name             one spelling: "youtube" in events, storage and the CLI; `api_name`
                     ("YOUTUBE") in the HTTP API and on tasks
    flows            module whose import registers the platform's flows (`core.flows.flow`)
    parser           "module:function" turning a raw API response into Normalized records
                     (`beat parse`)
    hosts, resolve   the URL hosts it serves and `resolve(url) -> (kind, id)` for them
                     (core/links.py); `resolve` raises NotALink with a reason, or
                     FollowRedirect for a share/short link whose target only the platform's
                     server knows (the router follows the redirect and resolves where it lands)
    share_url        (settings, url) -> where to request such a link's redirect: the link
                     itself, or its stand-in under SANDBOX_URL (without it, share links are
                     not followed in sandbox mode)
    settings         its PlatformSettings model (env prefix of its own, e.g. YOUTUBE_)
    credential_checks  source name -> "module:function" checking a stored credential
    lookups          "module:attribute" of its Lookups (the generic read endpoints)
    source_limits    default SOURCE_LIMITS of its sources ("N/window" specs)
    credential_limits  default CREDENTIAL_LIMITS: per source, each credential's own call
                     limits ("N/window" specs; the platform's published per-token rate)
    keyword_flow     the flow that collects posts by keyword, if it has one, and
    keyword_params   its params for (keyword, max items): {"keyword", "max_videos"} unless
                     the platform says otherwise; None from it skips that keyword
    startup          "module:function" run once by `beat worker` before the workers start
    refresh_costs    per refresh flow (the flows of its `Lookups.link` and
                     `Lookups.collections` refreshes), what one call costs the budget it draws
                     on (RefreshCost): the scheduler's unit
    attach_asset     "module:function" `async (conn, kind, id, url) -> int`: record on the
                     item's row (kind and id as its `resolve` gives them) the URL where a copy
                     of its image was stored (the assets worker); answers the rows updated
    asset_flow       the flow storing an item's image, params {url, platform, kind, id}: the
                     links report asks it for thumbnails that are not stored yet (the assets
                     package names it; a platform of the usual kind leaves it None)
    profile_includes name -> "module:function" `async (pool, platform, profile row) -> JSON`:
                     what this package keeps about other platforms' profiles, added under that
                     name to a profile answer by `?include=NAME` (the GPT enrichment's results)
    listeners        "module:attribute" of a list of core.consumers.Listener that `beat listen`
                     runs beside core's own (the enrichment's sentiment listeners)
    post_text        its post table's text, time, author and engagement columns (PostText):
                     trending hashtags and the analytics reports read posts through it
    comment_threads  its comment table's id, parent, post and likes columns (CommentThreads),
                     when its comments have replies: thread depths and reply chains
    profile_metrics  the metric names its profile snapshots (profile_log.metrics) carry:
                     what time series, growth figures and leaderboards may ask for
    followers_metric which of them counts a profile's audience ("subscribers" on YouTube):
                     the metric called "followers" across platforms (default "followers")
    entity_tables    per kind ("profile", "post", "comment"), its table's key, counts, texts
                     and write time (EntityTable): the ClickHouse sink's full snapshots
    profile_labels   "module:attribute" of a SELECT answering platform (API name),
                     profile_id, category and language: what this package knows of
                     profiles' categories and languages, its own or other platforms' (the
                     GPT enrichment's answers); the leaderboards take them where a
                     profile's own snapshots name none
"""

import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module, metadata
from typing import Any, ClassVar, Self
from urllib.parse import SplitResult

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from core.config import ConfigError, Settings, settings_problem
from core.entities import EntityTable
from core.lookups import Lookups
from core.posttext import CommentThreads, PostText

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "beat.platforms"

# What a URL points at, in every platform's words.
LINK_KINDS = ("video", "post", "story", "profile", "playlist", "hashtag")


class NotALink(ValueError):
    """The text is not a URL of one item this platform serves; str() is the one-line reason."""


class FollowRedirect(NotALink):
    """`url` is a share or short link: what it points at is known only by following the
    redirect its platform answers with (`Router.resolve_following`). Callers that do not
    follow redirects see a NotALink with a one-line reason."""

    def __init__(self, url: str) -> None:
        super().__init__("a share link: what it points at is known only by following its "
                         "redirect (beat links --resolve-only follows it)")
        self.url = url
        self.platform: str | None = None  # the platform whose link it is (set by the router)


class UnknownPlatform(LookupError):
    """No registered platform has this name; str() names the known ones."""


class PlatformSettings(BaseSettings):
    """A platform's own settings, read from the environment with its prefix (e.g. YOUTUBE_);
    `Settings.platform_settings[name]` overrides them for one Settings (tests, embedding)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)
    platform: ClassVar[str] = ""

    @classmethod
    def of(cls, settings: Settings) -> Self:
        """The platform's settings that go with `settings`; ConfigError (one line, no value
        quoted) when one is malformed."""
        try:
            return cls(**settings.platform_settings.get(cls.platform, {}))
        except (ValidationError, SettingsError) as exc:
            prefix = str(cls.model_config.get("env_prefix") or "")
            raise ConfigError(settings_problem(exc, prefix)) from None

    def secrets(self) -> list[str]:
        """Values to mask in every log line and error (keys, tokens)."""
        return []

    def has_credentials(self) -> bool:
        """Whether the platform can reach the real service (`beat up` starts the sandbox for
        the platforms that cannot, when none can)."""
        return False

    def sandbox_env(self) -> dict[str, str]:
        """Environment that makes the platform use the sandbox's built-in credentials."""
        return {}


def sandboxed(settings: Settings, path: str, real: str) -> str:
    """`path` under SANDBOX_URL when it is set (every platform call goes to the sandbox), else
    the real base URL."""
    return f"{settings.sandbox_url.rstrip('/')}/{path.strip('/')}" if settings.sandbox_url \
        else real


# -- The platform --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RefreshCost:
    """What one call of a refresh flow costs, so the refresh scheduler can spend a budget it
    reads from the limiter: `units` of `source`'s credential quota (CREDENTIAL_QUOTAS) when the
    source has one, and `requests` of the limits that count calls (the source's and each
    credential's: a refresh that reads pages makes several); a call covers up to `items` items
    (the flow's concurrent tasks folded into one call, e.g. 50 YouTube videos).

    `credential`: True when the source answers only with a stored credential (the scheduler
    then takes `fallback`, the next source of the chain, while none is usable, and holds the
    refresh back when no source can serve it); False when it answers without one too (X's
    GraphQL as a guest); None when unsaid (held back while its stored credentials all rest)."""

    source: str
    units: int = 1
    items: int = 1
    credential: bool | None = None
    fallback: "RefreshCost | None" = None
    requests: int = 1

    def __post_init__(self) -> None:
        if min(self.units, self.items, self.requests) < 1:
            raise ValueError(f"refresh cost of {self.source}: units, items and requests must "
                             "be >= 1")


Resolver = Callable[[SplitResult], tuple[str, str]]
ShareUrl = Callable[[Settings, str], str]  # (settings, share link) -> the URL to request


@dataclass(frozen=True)
class Platform:
    name: str
    flows: str | None = None
    parser: str | None = None
    hosts: frozenset[str] = frozenset()
    resolve: Resolver | None = None
    share_url: ShareUrl | None = None
    settings: type[PlatformSettings] | None = None
    credential_checks: Mapping[str, str] = field(default_factory=dict)
    lookups: str | None = None
    source_limits: Mapping[str, list[str]] = field(default_factory=dict)
    # Per source, each credential's quota as a limit spec (YouTube's 10,000 units a Pacific
    # day): its calls take their cost in units from it (CREDENTIAL_QUOTAS replaces it).
    credential_quotas: Mapping[str, str] = field(default_factory=dict)
    # Per source, each credential's own call limits (the Graph API's 200 calls an hour per
    # token): its calls take one slot each (CREDENTIAL_LIMITS replaces them per source).
    credential_limits: Mapping[str, list[str]] = field(default_factory=dict)
    # Per refresh flow, what one call costs (the refresh scheduler spends budgets with it; a
    # flow not named here is scheduled without a budget, SCHEDULER_MAX_PER_TICK a tick).
    refresh_costs: Mapping[str, RefreshCost] = field(default_factory=dict)
    keyword_flow: str | None = None
    keyword_params: Callable[[str, int], dict[str, Any] | None] | None = None
    startup: str | None = None
    attach_asset: str | None = None
    asset_flow: str | None = None
    profile_includes: Mapping[str, str] = field(default_factory=dict)
    listeners: str | None = None
    post_text: PostText | None = None
    comment_threads: CommentThreads | None = None
    profile_metrics: tuple[str, ...] = ()
    followers_metric: str = "followers"
    entity_tables: Mapping[str, EntityTable] = field(default_factory=dict)
    profile_labels: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name != self.name.lower():
            raise ValueError(f"platform name {self.name!r}: lower-case letters, digits and _")
        if self.hosts and self.resolve is None:
            raise ValueError(f"platform {self.name}: hosts without a resolve function")
        # The post and comment tables are named in more than one declaration: one table each.
        for kind, other in (("post", self.post_text), ("comment", self.comment_threads)):
            entity = self.entity_tables.get(kind)
            if entity and other and (other.table, other.key) != (entity.table, entity.key):
                raise ValueError(f"platform {self.name}: its {kind} table is {entity.table}"
                                 f".{entity.key} in entity_tables but {other.table}.{other.key}"
                                 f" in {type(other).__name__}")

    @property
    def api_name(self) -> str:
        """The spelling of the HTTP API and of tasks: YOUTUBE."""
        return self.name.upper()

    def keyword_task_params(self, keyword: str, limit: int) -> dict[str, Any] | None:
        """The keyword flow's params for a search of `keyword` collecting up to `limit`."""
        if self.keyword_params is not None:
            return self.keyword_params(keyword, limit)
        return {"keyword": keyword, "max_videos": limit}

    def snapshot_metric(self, name: str) -> str | None:
        """The profile_log metrics key of metric `name`, None when its snapshots carry no
        such metric; "followers" is the platform's `followers_metric` whatever it is called."""
        if name == "followers" and self.followers_metric in self.profile_metrics:
            return self.followers_metric
        return name if name in self.profile_metrics else None

    def metric_names(self) -> list[str]:
        """The metrics a caller may ask for: "followers" first when there is one."""
        names = [m for m in self.profile_metrics if m != "followers"]
        return (["followers"] if self.snapshot_metric("followers") else []) + names

    def platform_settings(self, settings: Settings) -> PlatformSettings | None:
        return self.settings.of(settings) if self.settings else None

    def load_lookups(self) -> Lookups | None:
        return load_attribute(self.lookups, Lookups) if self.lookups else None


def load_attribute(spec: str, kind: type[Any] | None = None) -> Any:
    """The object a "module:attribute" spec names (ConfigError, one line, when it cannot)."""
    module_name, _, attribute = spec.partition(":")
    try:
        value = getattr(import_module(module_name), attribute or "PLATFORM")
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load {spec!r}: {exc}") from None
    if kind is not None and not isinstance(value, kind):
        what = value.__name__ if isinstance(value, type) else f"a {type(value).__name__}"
        raise ConfigError(f"{spec!r} names {what}, not a {kind.__name__}")
    return value


_installed: dict[str, Platform] | None = None
_registered: dict[str, Platform] = {}
_lock = threading.Lock()


def _entry_point_platforms() -> dict[str, Platform]:
    global _installed
    with _lock:
        if _installed is None:
            found: dict[str, Platform] = {}
            for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
                platform = load_attribute(entry.value, Platform)
                found[platform.name] = platform
            _installed = found
        return _installed


def register(platform: Platform) -> Platform:
    """Add a platform in this process (what BEAT_PLATFORMS does from the environment)."""
    _registered[platform.name] = platform
    return platform


def unregister(name: str) -> None:
    _registered.pop(name, None)


def registry(settings: Settings) -> dict[str, Platform]:
    """Every platform by name: installed ones (entry points), then BEAT_PLATFORMS, then those
    registered in this process; sorted by name."""
    found = dict(_entry_point_platforms())
    for spec in settings.beat_platforms:
        platform = load_attribute(spec, Platform)
        found[platform.name] = platform
    found.update(_registered)
    return dict(sorted(found.items()))


def get(settings: Settings, name: str) -> Platform:
    """The platform called `name` (any case); UnknownPlatform naming the known ones."""
    platforms = registry(settings)
    platform = platforms.get(name.lower())
    if platform is None:
        known = ", ".join(p.api_name for p in platforms.values()) or "none"
        raise UnknownPlatform(f"unknown platform {name!r} (known: {known})")
    return platform


def all_secrets(settings: Settings) -> list[str]:
    """Every platform's secrets among the settings (to mask in logs)."""
    secrets: list[str] = []
    for platform in registry(settings).values():
        own = platform.platform_settings(settings)
        if own is not None:
            secrets += own.secrets()
    return secrets


def check_settings(settings: Settings) -> None:
    """Read every platform's settings once: ConfigError for the first malformed one."""
    for platform in registry(settings).values():
        platform.platform_settings(settings)


def run_startups(settings: Settings) -> list[tuple[str, Callable[..., Awaitable[Any]]]]:
    """The platforms' startup hooks, by platform name."""
    return [(p.name, load_attribute(p.startup)) for p in registry(settings).values()
            if p.startup]
