"""X's sources against the in-process sandbox: syndication (keyless, its token, no retweet or
view counts, tombstones and 404s as deleted tweets) and GraphQL (guest activation, a stored
credential, views missing on old tweets, a protected account's tweet, 429 with its reset,
refused tokens)."""

import time
from datetime import datetime
from typing import Any

import pytest

from core.budgets import read_budgets
from core.config import Settings
from core.errors import CredentialInvalid, RateLimited, Unsupported
from core.ratelimit import process_limiter
from credentials import store
from credentials.crypto import Crypto
from sandbox.x import world as w
from tests.x.conftest import Sandbox, sandbox_settings
from x.models import GRAPHQL, SYNDICATION
from x.sources.errors import Deleted, NotFound, Protected
from x.sources.graphql import graphql_source
from x.sources.syndication import SyndicationSource, syndication_source, syndication_token


def graphql(settings: Settings, pool: Any = None, **own: Any) -> Any:
    return graphql_source(sandbox_settings(settings, **own), pool)


def test_the_syndication_token_is_the_webs() -> None:
    # What the web's ((id / 1e15) * Math.PI).toString(36) minus zeros and point gives
    # (computed with node for these ids).
    assert syndication_token("20") == "6dq1a2xwd93"
    assert syndication_token("1629262255744503809") == "3y6h7x4gn61"
    assert syndication_token("2023357708301455483") == "4wkkd5uwebk"
    assert syndication_token("1848831595014459513") == "4hc9xdp8g2s"
    assert all(c not in "0." for c in syndication_token("1850000000000000001"))


async def test_syndication_reads_likes_and_replies_but_no_retweets_or_views(
        sandbox: Sandbox, settings: Settings) -> None:
    tweet = await syndication_source(sandbox_settings(settings)).tweet(w.WITH_VIEWS)
    assert tweet.source == SYNDICATION and tweet.handle == "beatnews"
    assert tweet.likes is not None and tweet.replies == 45
    assert (tweet.retweets, tweet.views, tweet.quotes) == (None, None, None)


async def test_syndication_without_the_token_is_refused(sandbox: Sandbox) -> None:
    response = await sandbox.client.get("/x/syndication/tweet-result",
                                        params={"id": w.WITH_VIEWS})
    assert response.status_code == 400


@pytest.mark.parametrize("tweet_id", [w.DELETED, w.PROTECTED, "1850000000000009999"])
async def test_syndication_tombstones_and_404s_are_deleted(sandbox: Sandbox, settings: Settings,
                                                         tweet_id: str) -> None:
    with pytest.raises(Deleted) as caught:
        await syndication_source(sandbox_settings(settings)).tweet(tweet_id)
    assert caught.value.kind == "deleted"


async def test_graphql_as_a_guest_reads_every_count(sandbox: Sandbox, settings: Settings) -> None:
    source = graphql(settings)
    tweet = await source.call("tweet", tweet_id=w.VIDEO)
    assert tweet.source == GRAPHQL and tweet.has_video
    assert tweet.views is not None and tweet.views > 2_000_000
    assert (tweet.retweets, tweet.quotes, tweet.bookmarks) == (2_875, 307, 715)
    await source.call("tweet", tweet_id=w.WITH_VIEWS)
    assert source.activations == 1  # one guest token for both calls


async def test_an_old_tweet_has_no_view_count(sandbox: Sandbox, settings: Settings) -> None:
    tweet = await graphql(settings).call("tweet", tweet_id=w.OLD_TWEET)
    assert tweet.views is None and tweet.likes == 263_922 and tweet.handle == "oldtimer"


async def test_a_quote_tweet_names_its_quoted_tweet(sandbox: Sandbox, settings: Settings) -> None:
    tweet = await graphql(settings).call("tweet", tweet_id=w.QUOTE)
    assert tweet.quoted_tweet_id == w.WITH_VIEWS and tweet.likes == 640


async def test_deleted_protected_and_unknown_tweets_are_permanent(sandbox: Sandbox,
                                                                  settings: Settings) -> None:
    source = graphql(settings)
    with pytest.raises(Deleted, match="deleted by the Post author"):
        await source.call("tweet", tweet_id=w.DELETED)
    with pytest.raises(Protected, match="protected") as caught:
        await source.call("tweet", tweet_id=w.PROTECTED)
    assert caught.value.kind == "private"
    with pytest.raises(Deleted, match="no tweet"):
        await source.call("tweet", tweet_id="1850000000000009999")


async def test_profiles_in_both_user_shapes(sandbox: Sandbox, settings: Settings) -> None:
    source = graphql(settings)
    news = await source.call("profile_by_handle", handle="BeatNews")  # the 2026 shape
    old = await source.call("profile_by_id", user_id=w.OLD)  # the legacy shape
    assert (news.user_id, news.handle, news.following, news.listed) == \
        (w.NEWS, "beatnews", 321, None)
    assert news.followers is not None and news.followers >= 100_000
    assert (old.handle, old.listed, old.following) == ("oldtimer", 32_000, 3)
    locked = await source.call("profile_by_handle", handle="lockedbox")
    assert locked.protected is True
    with pytest.raises(NotFound):
        await source.call("profile_by_handle", handle="nobody_here")


async def test_past_its_budget_a_guest_is_rate_limited_until_the_reset(
        sandbox: Sandbox, settings: Settings) -> None:
    sandbox.x.budget = 2
    now = time.time()
    sandbox.x.clock = lambda: now
    window_left = 900 - now % 900
    source = graphql(settings)
    await source.call("tweet", tweet_id=w.WITH_VIEWS)
    await source.call("tweet", tweet_id=w.WITH_VIEWS)
    with pytest.raises(RateLimited) as caught:
        await source.call("tweet", tweet_id=w.WITH_VIEWS)
    # Until x-rate-limit-reset (epoch seconds): the rest of the sandbox's 15-minute window.
    assert abs(caught.value.retry_after - window_left) < 5


async def test_a_refused_guest_token_is_activated_again(sandbox: Sandbox,
                                                        settings: Settings) -> None:
    source = graphql(settings)
    await source.call("tweet", tweet_id=w.WITH_VIEWS)
    sandbox.x.guests.clear()  # X forgot the guest token
    await source.call("tweet", tweet_id=w.WITH_VIEWS)
    assert source.activations == 2


async def test_without_a_bearer_graphql_steps_aside(sandbox: Sandbox, settings: Settings) -> None:
    source = graphql(settings, bearer_token=None)
    with pytest.raises(Unsupported, match="X_BEARER_TOKEN"):
        await source.call("tweet", tweet_id=w.WITH_VIEWS)


async def test_a_stored_credential_is_used_and_a_refused_one_marked_invalid(
        sandbox: Sandbox, settings: Settings, pool: Any) -> None:
    await pool.execute("TRUNCATE credential RESTART IDENTITY")
    crypto = Crypto.from_settings(settings)
    await store.upsert(pool, crypto, GRAPHQL, {"auth_token": "sandbox-x-auth",
                                               "ct0": "sandbox-ct0"})
    source = graphql(settings, pool)
    await source.call("tweet", tweet_id=w.WITH_VIEWS)
    assert source.activations == 0  # the credential, not a guest token
    await pool.execute("TRUNCATE credential RESTART IDENTITY")
    await store.upsert(pool, crypto, GRAPHQL, {"auth_token": "revoked", "ct0": "x"})
    source = graphql(settings, pool)
    with pytest.raises(CredentialInvalid, match="401"):
        await source.call("tweet", tweet_id=w.WITH_VIEWS)
    [info] = await store.list_infos(pool, GRAPHQL)
    assert info.last_error and "401" in info.last_error
    await pool.execute("TRUNCATE credential RESTART IDENTITY")


def test_the_source_names_its_capabilities() -> None:
    assert SyndicationSource("http://s").capabilities == {"tweet"}


async def test_configured_credentials_are_imported_at_worker_start_and_used(
        sandbox: Sandbox, settings: Settings, pool: Any) -> None:
    from x.settings import SANDBOX_AUTH_TOKENS
    from x.startup import import_configured_credentials

    await pool.execute("TRUNCATE credential RESTART IDENTITY")
    tuned = sandbox_settings(settings, auth_tokens=list(SANDBOX_AUTH_TOKENS))
    await import_configured_credentials(tuned, pool)
    await import_configured_credentials(tuned, pool)  # a second worker start adds nothing
    [info] = await store.list_infos(pool, GRAPHQL)
    assert "sandbox-x-auth" not in str(info.masked)  # stored encrypted, shown masked
    source = graphql_source(tuned, pool)
    await source.call("tweet", tweet_id=w.QUOTE)
    assert source.activations == 0
    await pool.execute("TRUNCATE credential RESTART IDENTITY")


def test_a_credential_must_be_auth_token_and_ct0(settings: Settings) -> None:
    from core.config import ConfigError
    from x.settings import XSettings

    with pytest.raises(ConfigError):
        XSettings.of(settings.model_copy(update={"platform_settings": {
            "x": {"auth_tokens": "only-a-token"}}}))


async def test_the_window_x_reports_for_a_credential_is_kept_for_the_budgets(
        sandbox: Sandbox, settings: Settings, pool: Any) -> None:
    """x-rate-limit-remaining of -limit until -reset, as the last answer gave them: what
    GET /budgets shows, and what caps the scheduler's line for that credential."""
    await pool.execute("TRUNCATE credential RESTART IDENTITY")
    sandbox.x.budget = 50
    now = time.time()
    sandbox.x.clock = lambda: now
    crypto = Crypto.from_settings(settings)
    await store.upsert(pool, crypto, GRAPHQL, {"auth_token": "sandbox-x-auth",
                                               "ct0": "sandbox-ct0"})
    source = graphql(settings, pool)
    for _ in range(3):
        await source.call("tweet", tweet_id=w.WITH_VIEWS)
    [info] = await store.list_infos(pool, GRAPHQL)
    assert info.usage is not None
    # written once in usage_write_s (5 s): the first answer's word, not a later one's
    assert (info.usage["remaining"], info.usage["limit"]) == (49, 50)
    resets = datetime.fromisoformat(info.usage["resets_at"]).timestamp()
    assert resets == (int(now) // 900 + 1) * 900
    found = await read_budgets(settings, pool, process_limiter(settings))
    [x] = [s for s in found.sources if s.source == GRAPHQL]
    assert x.credentials[0].reported == info.usage
    await pool.execute("TRUNCATE credential RESTART IDENTITY")
