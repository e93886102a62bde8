"""YouTube Analytics API v2 `reports.query` under /youtube/analytics/v2/reports, answered from
the figures of analytics.py in the API's shape:

    {"kind": "youtubeAnalytics#resultTable",
     "columnHeaders": [{"name": "day", "columnType": "DIMENSION", "dataType": "STRING"}, ...],
     "rows": [["2025-03-01", 1234, ...], ...]}         (no "rows" when nothing matched)

The channel reports it serves: `day` or no dimension with the day metrics; `country` with
views, estimatedMinutesWatched, averageViewDuration; `ageGroup`, `gender` or `ageGroup,gender`
with viewerPercentage only. Anything else is 400 badRequest ("The query is not supported"), as
the real API answers. Auth: a Bearer access token from /youtube/oauth2/token (401 when missing,
unknown or expired); `ids=channel==MINE` is the token's channel, `channel==UC…` must be it
(403 forbidden otherwise).
"""

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from sandbox.responses import GoogleJSON
from sandbox.state import state_of
from sandbox.youtube import analytics as figures
from sandbox.youtube.errors import ApiError, error
from sandbox.youtube.oauth import Unauthenticated, book_of
from sandbox.youtube.world import Channel, World

router = APIRouter(prefix="/youtube/analytics/v2")

KIND = "youtubeAnalytics#resultTable"
_UNSUPPORTED = ("The query is not supported. Check the documentation at https://developers."
                "google.com/youtube/analytics/v2/available_reports for a list of supported "
                "queries.")
_UNAUTHENTICATED = ("Request had invalid authentication credentials. Expected OAuth 2 access "
                    "token, login cookie or other valid authentication credential. See https://"
                    "developers.google.com/identity/sign-in/web/devconsole-project.")
FLOAT_METRICS = {"viewerPercentage"}
COUNTRY_METRICS = {"views", "estimatedMinutesWatched", "averageViewDuration"}
DEMOGRAPHIC_DIMENSIONS = ({"ageGroup"}, {"gender"}, {"ageGroup", "gender"})


def unauthenticated() -> ApiError:
    failure = error(401, _UNAUTHENTICATED, "authError", "global", "Authorization", "header")
    failure.body["error"]["errors"][0]["message"] = "Invalid Credentials"
    failure.body["error"]["status"] = "UNAUTHENTICATED"
    return failure


def forbidden() -> ApiError:
    failure = error(403, "Forbidden", "forbidden", "global")
    failure.body["error"]["status"] = "PERMISSION_DENIED"
    return failure


def bad_request(message: str = _UNSUPPORTED, reason: str = "badRequest") -> ApiError:
    failure = error(400, message, reason, "global")
    failure.body["error"]["status"] = "INVALID_ARGUMENT"
    return failure


@router.get("/reports")
async def reports(request: Request) -> Response:
    try:
        owner = _owner(request)
        body = query(state_of(request).world, owner, request.query_params,
                     state_of(request).quota.clock().date())
        return GoogleJSON(body)
    except ApiError as exc:
        response = exc.response()
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"'
        return response


def _owner(request: Request) -> str:
    bearer = request.headers.get("authorization", "")
    if not bearer.startswith("Bearer "):
        raise unauthenticated()
    try:
        return book_of(request).owner(bearer.removeprefix("Bearer ").strip())
    except Unauthenticated:
        raise unauthenticated() from None


def query(world: World, owner: str, params: QueryParams, today: date) -> dict[str, Any]:
    """The result table of one reports.query by the owner of channel `owner`."""
    for name in ("ids", "metrics", "startDate", "endDate"):
        if not params.get(name):
            raise bad_request(f"Required parameter: {name}", "required")
    channel = _channel(world, owner, params["ids"])
    metrics = _names(params["metrics"])
    dimensions = _names(params.get("dimensions", ""))
    start, end = _date(params, "startDate"), _date(params, "endDate")
    if start > end:
        raise bad_request("The start date must be on or before the end date.")
    _check_supported(set(dimensions), metrics)
    headers = [_header(d, "DIMENSION") for d in dimensions] + \
              [_header(m, "METRIC") for m in metrics]
    rows = _rows(world, channel, dimensions, metrics,
                 figures.days_with_data(channel, start, end, today), start, end)
    rows = _limited(_sorted(rows, params.get("sort"), dimensions + metrics),
                    params.get("maxResults"))
    body: dict[str, Any] = {"kind": KIND, "columnHeaders": headers}
    if rows:
        body["rows"] = rows
    return body


def _channel(world: World, owner: str, ids: str) -> Channel:
    kind, _, value = ids.partition("==")
    if kind != "channel" or not value:
        raise forbidden() if kind == "contentOwner" else bad_request(
            f"Invalid value '{ids}' for ids.", "invalidParameter")
    if value not in ("MINE", owner):
        raise forbidden()
    channel = world.channel(owner)
    if channel is None:
        raise forbidden()
    return channel


def _names(raw: str) -> list[str]:
    return [name.strip() for name in raw.split(",") if name.strip()]


def _date(params: QueryParams, name: str) -> date:
    try:
        return date.fromisoformat(params[name])
    except ValueError:
        raise bad_request(f"Invalid value '{params[name]}'. Values must match the following "
                          "regular expression: '[0-9]{4}-[0-9]{2}-[0-9]{2}'",
                          "invalidParameter") from None


def _check_supported(dimensions: set[str], metrics: list[str]) -> None:
    if not metrics or len(set(metrics)) != len(metrics):
        raise bad_request()
    if dimensions in ({"day"}, set()):
        allowed = set(figures.DAY_METRICS)
    elif dimensions == {"country"}:
        allowed = COUNTRY_METRICS
    elif dimensions in DEMOGRAPHIC_DIMENSIONS:
        allowed = FLOAT_METRICS
    else:
        raise bad_request()
    if not set(metrics) <= allowed:
        raise bad_request()


def _header(name: str, column_type: str) -> dict[str, str]:
    data_type = "FLOAT" if name in FLOAT_METRICS else \
        "STRING" if column_type == "DIMENSION" else "INTEGER"
    return {"name": name, "columnType": column_type, "dataType": data_type}


def _rows(world: World, channel: Channel, dimensions: list[str], metrics: list[str],
          days: list[date], start: date, end: date) -> list[list[Any]]:
    if dimensions == ["day"]:
        return [[day.isoformat(), *_pick(figures.day_stats(world, channel, day), metrics)]
                for day in days]
    if not dimensions:
        return [_pick(figures.totals(world, channel, days), metrics)] if days else []
    if dimensions == ["country"]:
        return [[country, *_country_values(views, minutes, metrics)]
                for country, views, minutes in figures.country_views(world, channel, days)]
    return _demographic_rows(world, channel, dimensions, start, end) if days else []


def _pick(stats: figures.DayStats, metrics: list[str]) -> list[Any]:
    return [getattr(stats, figures.DAY_METRICS[m]) for m in metrics]


def _country_values(views: int, minutes: int, metrics: list[str]) -> list[int]:
    values = {"views": views, "estimatedMinutesWatched": minutes,
              "averageViewDuration": round(minutes * 60 / views) if views else 0}
    return [values[m] for m in metrics]


def _demographic_rows(world: World, channel: Channel, dimensions: list[str], start: date,
                      end: date) -> list[list[Any]]:
    """Rows of one or both demographic dimensions, in the order asked."""
    summed: dict[tuple[str, ...], float] = {}
    for age, gender, share in figures.age_gender_shares(world, channel, start, end):
        cell = {"ageGroup": age, "gender": gender}
        key = tuple(cell[d] for d in dimensions)
        summed[key] = round(summed.get(key, 0.0) + share, 1)
    return [[*key, share] for key, share in summed.items()]


def _sorted(rows: list[list[Any]], sort: str | None, columns: list[str]) -> list[list[Any]]:
    for field in reversed(_names(sort or "")):
        name = field.lstrip("-")
        if name not in columns:
            raise bad_request()
        index = columns.index(name)
        rows = sorted(rows, key=lambda row: row[index], reverse=field.startswith("-"))
    return rows


def _limited(rows: list[list[Any]], max_results: str | None) -> list[list[Any]]:
    if max_results is None:
        return rows
    if not max_results.isdigit() or int(max_results) < 1:
        raise bad_request(f"Invalid value '{max_results}'. Values must be within the range: "
                          "[1, 2147483647]", "invalidParameter")
    return rows[:int(max_results)]
