"""Graph API insights of the Instagram world, in both real shapes: `values` ([{"value"}] for
media, [{"value", "end_time"}] per day for users) and `total_value` ({"value", "breakdowns":
[{"dimension_keys", "results": [{"dimension_values", "value"}]}]}).

Media: every metric answers `values`; with metric_type=total_value, or for the metrics that
only exist that way (profile_activity, navigation), `total_value` too. Users: reach,
impressions and follower_count are time series (`values`, period=day); the other metrics
need metric_type=total_value, as on the real API; follower_demographics needs a breakdown.
"""

from datetime import date, datetime, time, timedelta
from typing import Any

from sandbox.instagram.graph_errors import GraphError, bad_param
from sandbox.instagram.media import Media
from sandbox.instagram.world import Account, World

TOTAL_ONLY_MEDIA = {"profile_activity": "action_type", "navigation": "story_navigation_action_type"}
SERIES = ("reach", "impressions", "follower_count")
TOTAL_ONLY_USER = ("accounts_engaged", "total_interactions", "likes", "comments", "shares",
                   "saves", "replies", "views", "profile_views", "profile_links_taps",
                   "website_clicks", "follows_and_unfollows")
DEMOGRAPHICS = ("follower_demographics", "engaged_audience_demographics",
                "reached_audience_demographics")
BREAKDOWNS = ("age", "gender", "city", "country")
TITLES = {"impressions": "Impressions", "reach": "Reach", "saved": "Saved", "plays": "Plays",
          "shares": "Shares", "total_interactions": "Total interactions",
          "profile_activity": "Profile activity", "follower_demographics":
          "Follower demographics", "likes": "Likes", "comments": "Comments"}


def media_insights(world: World, media: Media, metrics: list[str],
                   total_value: bool) -> dict[str, Any]:
    figures = world.media_insights(media)
    figures["profile_activity"] = figures.get("profile_visits", 0) // 2
    if media.media_type == "story":
        figures.pop("profile_activity")
    data = []
    for metric in metrics:
        if metric not in figures:
            raise bad_param(f"(#100) The Media Insights API does not support the {metric} "
                            "metric for this media product type.")
        entry = _entry(f"{media.graph_id}/insights/{metric}/lifetime", metric, "lifetime")
        entry["values"] = [{"value": figures[metric]}]
        if total_value or metric in TOTAL_ONLY_MEDIA:
            entry["total_value"] = {"value": figures[metric]}
            if metric in TOTAL_ONLY_MEDIA:
                entry["total_value"]["breakdowns"] = [{
                    "dimension_keys": [TOTAL_ONLY_MEDIA[metric]],
                    "results": [{"dimension_values": ["bio_link_clicked"],
                                 "value": figures[metric]}]}]
        data.append(_ordered(entry))
    return {"data": data}


def user_insights(world: World, account: Account, metrics: list[str], period: str,
                  total_value: bool, breakdown: list[str]) -> dict[str, Any]:
    today = world.now.date()
    data = []
    for metric in metrics:
        entry = _entry(f"{account.graph_id}/insights/{metric}/{period}", metric, period)
        if metric in DEMOGRAPHICS:
            entry["total_value"] = _demographics(world, account, metric, breakdown)
        elif metric in SERIES and not total_value:
            entry["values"] = [{"value": world.account_insights(account, day).get(metric, 0),
                                "end_time": _end_time(day)}
                               for day in (today - timedelta(days=2), today - timedelta(days=1))]
        elif metric in SERIES or metric in TOTAL_ONLY_USER:
            if not total_value:
                raise bad_param(f"(#100) The following metrics ({metric}) should be specified "
                                "with parameter metric_type=total_value")
            entry["total_value"] = _total(world, account, metric, breakdown, today)
        else:
            raise bad_param(f"(#100) metric[0] must be one of the following values: "
                            f"{', '.join(SERIES + TOTAL_ONLY_USER + DEMOGRAPHICS)}")
        data.append(_ordered(entry))
    return {"data": data}


def _total(world: World, account: Account, metric: str, breakdown: list[str],
           today: date) -> dict[str, Any]:
    day = today - timedelta(days=1)
    total: dict[str, Any] = {"value": world.account_insights(account, day).get(metric, 0)}
    if breakdown:
        split = world.insight_breakdown(account, metric, tuple(breakdown), day)
        total["breakdowns"] = [{"dimension_keys": breakdown, "results": [
            {"dimension_values": list(k), "value": v} for k, v in split.items()]}]
    return total


def _demographics(world: World, account: Account, metric: str,
                  breakdown: list[str]) -> dict[str, Any]:
    if len(breakdown) != 1 or breakdown[0] not in BREAKDOWNS:
        raise bad_param("(#100) Incorrect breakdown parameter: must be one of "
                        + ", ".join(BREAKDOWNS))
    if account.followers < 100:
        raise GraphError(10, "(#10) Not enough viewers for the media to show insights",
                         kind="OAuthException")
    split = world.follower_demographics(account, breakdown[0])
    if metric != "follower_demographics":  # engaged/reached audiences: a share of followers
        split = {k: v // 3 for k, v in split.items() if v >= 3}
    return {"breakdowns": [{"dimension_keys": breakdown, "results": [
        {"dimension_values": [k], "value": v} for k, v in split.items()]}]}


def _entry(entry_id: str, metric: str, period: str) -> dict[str, Any]:
    title = TITLES.get(metric, metric.replace("_", " ").capitalize())
    return {"name": metric, "period": period, "title": title,
            "description": f"The {title.lower()} figure of the object", "id": entry_id}


def _ordered(entry: dict[str, Any]) -> dict[str, Any]:
    """Keys in the real order: name, period, values, title, description, total_value, id."""
    order = ("name", "period", "values", "title", "description", "total_value", "id")
    return {k: entry[k] for k in order if k in entry}


def _end_time(day: date) -> str:
    """Insights days end at 07:00 UTC (midnight Pacific, daylight time)."""
    moment = datetime.combine(day + timedelta(days=1), time(7))
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")
