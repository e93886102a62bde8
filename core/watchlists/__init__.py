"""Watchlists: named sets of platform items (profiles and posts) that the refresh scheduler
keeps fresh, each with an importance and a target freshness (max age). Items are added by id
or by pasted URL through the URL router (core/links.py); the store is core/sql/watchlists.sql."""
