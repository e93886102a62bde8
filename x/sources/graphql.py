"""The GraphQL source: the API X's web app calls, as a guest or with a stored credential.

    POST {api}/1.1/guest/activate.json                  -> {"guest_token": "..."}
    GET  {graphql}/{query id}/TweetResultByRestId?variables={"tweetId": ID, ...}&features=…
    GET  {graphql}/{query id}/UserByScreenName?variables={"screen_name": H, ...}&features=…
    GET  {graphql}/{query id}/UserByRestId?variables={"userId": ID, ...}&features=…

Every call carries the web app's bearer token (X_BEARER_TOKEN; without one the source steps
aside: Unsupported). A stored credential (source x_graphql: the auth_token and ct0 cookies)
is used when there is one with calls left in its own limits (CREDENTIAL_LIMITS), else a guest
token, activated once and kept until X refuses it.
429 is RateLimited until x-rate-limit-reset (the credential rests that long); 401/403 on a
credential marks it invalid (CredentialInvalid: the next call picks another or goes as a
guest); a refused guest token is activated again once.
"""

import json
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import asyncpg

from core.config import Settings
from core.credential_rates import rate_check
from core.errors import CredentialInvalid, RateLimited, SourceUnavailable, Unsupported
from core.http import JsonResponse, request_json
from core.parsing import READ_ERRORS, UnknownShape
from credentials.crypto import Crypto
from credentials.manager import CredentialManager, always_budget
from credentials.models import Credential
from x.models import GRAPHQL, Account, Tweet
from x.settings import XSettings
from x.sources.errors import Deleted, NotFound
from x.sources.graphql_parse import parse_tweet, parse_user, tweet_result_of, user_result_of
from x.sources.http import reset_wait, window_of

# The feature switches the web app sends; X answers 400 when a required one is missing.
FEATURES = {
    "creator_subscriptions_tweet_preview_api_enabled": True,
    "responsive_web_graphql_timeline_navigation_enabled": True,
    "responsive_web_graphql_skip_user_profile_image_extensions_enabled": False,
    "longform_notetweets_consumption_enabled": True,
    "view_counts_everywhere_api_enabled": True,
    "hidden_profile_subscriptions_enabled": True,
    "verified_phone_label_enabled": False,
}
REFUSED = {401, 403}
T = TypeVar("T")


class GraphqlSource:
    name = GRAPHQL
    capabilities = frozenset({"tweet", "profile_by_handle", "profile_by_id"})
    needs_credential = False  # a guest token does when no credential is stored

    def __init__(self, own: XSettings, graphql_url: str, api_url: str,
                 manager: CredentialManager | None = None) -> None:
        self.own, self.manager = own, manager
        self.graphql_url, self.api_url = graphql_url.rstrip("/"), api_url.rstrip("/")
        self.guest_token: str | None = None
        self.activations = 0

    async def call(self, capability: str, **params: Any) -> Any:
        if not self.own.bearer_token:
            raise Unsupported(f"{GRAPHQL}: no bearer token (X_BEARER_TOKEN)")
        if capability == "tweet":
            return await self.tweet(str(params["tweet_id"]))
        if capability == "profile_by_handle":
            return await self.user("UserByScreenName", self.own.user_query_id,
                                   {"screen_name": params["handle"].lstrip("@")})
        if capability == "profile_by_id":
            return await self.user("UserByRestId", self.own.user_by_id_query_id,
                                   {"userId": str(params["user_id"])})
        raise SourceUnavailable(f"{GRAPHQL}: no capability {capability}")

    async def tweet(self, tweet_id: str) -> Tweet:
        body = await self.query("TweetResultByRestId", self.own.tweet_query_id, {
            "tweetId": tweet_id, "withCommunity": False, "includePromotedContent": False,
            "withVoice": False})
        result = _read(tweet_result_of, body)
        if result is None:
            raise Deleted(f"{GRAPHQL}: no tweet {tweet_id} (deleted or never posted)")
        return _read(parse_tweet, result)

    async def user(self, operation: str, query_id: str, variables: dict[str, Any]) -> Account:
        body = await self.query(operation, query_id, variables)
        user = _read(user_result_of, body)
        if not user:
            raise NotFound(f"{GRAPHQL}: no X account {next(iter(variables.values()))}")
        return _read(parse_user, user)

    async def query(self, operation: str, query_id: str, variables: dict[str, Any]) -> Any:
        """One GraphQL call, retried once as a new guest when X refuses the guest token."""
        for attempt in (1, 2):
            credential = await self.manager.pick(GRAPHQL) if self.manager else None
            headers = await self._headers(credential)
            response = await request_json(GRAPHQL, "GET", f"{self.graphql_url}/{query_id}/"
                                       f"{operation}", params=_params(variables),
                                       headers=headers)
            await self._observed(credential, response)
            if response.status == 200 and isinstance(response.body, dict):
                _errors_only(response.body)
                return response.body
            if response.status in REFUSED and credential is None and attempt == 1:
                self.guest_token = None  # spent or expired: activate a new one
                continue
            await self._classify(response, credential)
        raise CredentialInvalid(f"{GRAPHQL}: guest tokens refused twice")

    async def _observed(self, credential: Credential | None, response: JsonResponse) -> None:
        """Keep the credential's window as X reported it (for the budgets)."""
        window = window_of(response.headers) if credential is not None else None
        if window is not None and credential is not None and self.manager is not None:
            await self.manager.observed(credential, window)

    async def _headers(self, credential: Credential | None) -> dict[str, str]:
        headers = {"authorization": f"Bearer {self.own.bearer_token}",
                   "content-type": "application/json"}
        if credential is not None:
            ct0 = credential.secret("ct0") or ""
            headers.update({"cookie": f"auth_token={credential.secret('auth_token')}; "
                                      f"ct0={ct0}",
                            "x-csrf-token": ct0, "x-twitter-auth-type": "OAuth2Session"})
        else:
            headers["x-guest-token"] = await self._guest()
        return headers

    async def _guest(self) -> str:
        if self.guest_token is None:
            response = await request_json(GRAPHQL, "POST",
                                       f"{self.api_url}/1.1/guest/activate.json",
                                       headers={"authorization":
                                                f"Bearer {self.own.bearer_token}"})
            body = response.body if isinstance(response.body, dict) else {}
            if response.status != 200 or not body.get("guest_token"):
                await self._classify(response, None)
            self.activations += 1
            self.guest_token = str(body["guest_token"])
        return self.guest_token

    async def _classify(self, response: JsonResponse, credential: Credential | None
                        ) -> NoReturn:
        status = response.status
        if status == 429:
            wait = reset_wait(response.headers)
            if credential is not None and self.manager is not None:
                await self.manager.rate_limited(credential, wait)
            raise RateLimited(wait, f"{GRAPHQL}: HTTP 429 (window resets in {wait:.0f}s)")
        if status in REFUSED:
            reason = f"{GRAPHQL}: HTTP {status} {_message(response.body)}".rstrip()
            if credential is not None and self.manager is not None:
                await self.manager.invalid(credential, reason)
            raise CredentialInvalid(reason)
        raise SourceUnavailable(f"{GRAPHQL}: HTTP {status} {_message(response.body)}".rstrip())


def graphql_source(settings: Settings, pool: asyncpg.Pool | None) -> GraphqlSource:
    """The source at the configured (or sandboxed) URLs, over the credential table's X
    credentials when a pool is given."""
    own = XSettings.of(settings)
    check = rate_check(settings, GRAPHQL)
    manager = CredentialManager(pool, Crypto.from_settings(settings),
                                has_budget=check or always_budget) if pool else None
    return GraphqlSource(own, own.graphql_base_url(settings), own.api_base_url(settings),
                         manager)


def _params(variables: dict[str, Any]) -> dict[str, str]:
    compact = {"separators": (",", ":")}
    return {"variables": json.dumps(variables, **compact),  # type: ignore[arg-type]
            "features": json.dumps(FEATURES, **compact)}  # type: ignore[arg-type]


def _errors_only(body: dict[str, Any]) -> None:
    """A 200 with errors and no data: X's way to refuse a query it no longer knows."""
    if "data" not in body and body.get("errors"):
        raise SourceUnavailable(f"{GRAPHQL}: {_message(body)}")


def _message(body: Any) -> str:
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or "")
    return ""


def _read(parse: Callable[..., T], *args: Any) -> T:
    """A parser's result; an unreadable body is the source failing, with the parser's reason
    (Deleted and Protected pass through: they are the answer)."""
    try:
        return parse(*args)
    except UnknownShape:
        raise
    except READ_ERRORS as exc:
        raise UnknownShape(f"{GRAPHQL}: {type(exc).__name__}: {exc}") from None
