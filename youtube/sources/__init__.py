"""YouTube sources, best first: the Data API v3, then keyless fallbacks."""
