"""YouTube sources, best first: the Data API v3 (data_api/), then the keyless Invidious fallback
(invidious.py). Each source's calls and the parsers of its bodies live together."""
