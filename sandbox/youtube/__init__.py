"""The sandbox's YouTube: a generated world served as the Data API v3 and as Invidious."""
