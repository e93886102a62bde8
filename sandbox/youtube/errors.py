"""Data API v3 error bodies, in the shapes of the real ones (see ../shared/fixtures/youtube:
yt_error_400_keyInvalid.json, yt_error_403_quotaExceeded.json, yt_error_403_commentsDisabled.json).

    {"error": {"code": 403, "message": "...",
               "errors": [{"message": "...", "domain": "...", "reason": "...",
                           "location": "...", "locationType": "parameter"}]}}
"""

from typing import Any

from sandbox.responses import GoogleJSON

_QUOTA = ('The request cannot be completed because you have exceeded your '
          '<a href="/youtube/v3/getting-started#quota">quota</a>.')
_COMMENTS_OFF = ('The video identified by the <code><a href="/youtube/v3/docs/commentThreads/'
                 'list#videoId">videoId</a></code> parameter has disabled comments.')
_NO_VIDEO = ('The video identified by the <code><a href="/youtube/v3/docs/commentThreads/'
             'list#videoId">videoId</a></code> parameter could not be found.')
_NO_PLAYLIST = ("The playlist identified with the request's <code>playlistId</code> parameter "
                "cannot be found.")


class ApiError(Exception):
    """Raised by a route: answered as `body` with HTTP `status`."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body['error'].get('message')}")
        self.status = status
        self.body = body

    def response(self) -> GoogleJSON:
        return GoogleJSON(self.body, status_code=self.status)


def error(code: int, message: str, reason: str, domain: str, location: str | None = None,
          location_type: str = "parameter") -> ApiError:
    """An error in the current shape: code, message, errors[{message, domain, reason, ...}]."""
    item: dict[str, Any] = {"message": message, "domain": domain, "reason": reason}
    if location is not None:
        item |= {"location": location, "locationType": location_type}
    return ApiError(code, {"error": {"code": code, "message": message, "errors": [item]}})


def key_invalid() -> ApiError:
    """A missing or unknown key (the older shape: errors listed first, message "Bad Request")."""
    item = {"domain": "usageLimits", "reason": "keyInvalid", "message": "Bad Request"}
    return ApiError(400, {"error": {"errors": [item], "code": 400, "message": "Bad Request"}})


def quota_exceeded() -> ApiError:
    return error(403, _QUOTA, "quotaExceeded", "youtube.quota")


def comments_disabled() -> ApiError:
    return error(403, _COMMENTS_OFF, "commentsDisabled", "youtube.commentThread", "videoId")


def video_not_found() -> ApiError:
    return error(404, _NO_VIDEO, "videoNotFound", "youtube.commentThread", "videoId")


def playlist_not_found() -> ApiError:
    return error(404, _NO_PLAYLIST, "playlistNotFound", "youtube.playlistItem", "playlistId")


def required(parameter: str) -> ApiError:
    return error(400, f"Required parameter: {parameter}", "required", "global", parameter)


def unknown_part(part: str) -> ApiError:
    return error(400, part, "unknownPart", "youtube.part", "part")


def out_of_range(parameter: str, value: str, low: int, high: int) -> ApiError:
    message = f"Invalid value '{value}'. Values must be within the range: [{low}, {high}]"
    return error(400, message, "invalidParameter", "global", parameter)


def invalid_page_token() -> ApiError:
    return error(400, "The request specifies an invalid page token.", "invalidPageToken",
                 "youtube.parameter", "pageToken")


def invalid_filters(message: str) -> ApiError:
    """Too many ids, or no/conflicting filter parameters."""
    return error(400, message, "invalidFilters", "youtube.parameter", "parameters.", "other")


def backend(status: int) -> dict[str, Any]:
    """Body of an injected server error (500, 503, ...)."""
    message = "Backend Error" if status < 503 else "The service is currently unavailable."
    return error(status, message, "backendError", "global").body


class Throttled(ApiError):
    """A 429 for one key, with Retry-After."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(429, rate_limited())
        self.retry_after_s = retry_after_s

    def response(self) -> GoogleJSON:
        return GoogleJSON(self.body, status_code=429,
                          headers={"Retry-After": f"{self.retry_after_s:g}"})


def throttled(retry_after_s: float) -> ApiError:
    return Throttled(retry_after_s)


def rate_limited() -> dict[str, Any]:
    """Body of an injected 429."""
    body = error(429, "Resource has been exhausted (e.g. check quota).", "rateLimitExceeded",
                 "global").body
    body["error"]["status"] = "RESOURCE_EXHAUSTED"
    return body
