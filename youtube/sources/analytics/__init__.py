"""The YouTube Analytics API v2 source: reports.query as the channel's owner (source.py), the
owners' OAuth tokens it spends and refreshes (owners.py) and the parser of its result tables
(parse.py)."""

from youtube.sources.analytics.owners import OAuthClient, OwnerTokens
from youtube.sources.analytics.parse import Report, normalize_report, parse_report
from youtube.sources.analytics.source import AnalyticsSource

__all__ = ["AnalyticsSource", "OAuthClient", "OwnerTokens", "Report", "normalize_report",
           "parse_report"]
