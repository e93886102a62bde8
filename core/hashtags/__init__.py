"""Trending hashtags: extracted from stored posts as their events arrive, counted in Redis
per-minute and per-hour buckets, read back as windows, co-occurrences and reports."""
