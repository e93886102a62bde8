"""YouTube: URL recognition, models, sources and flows."""
