"""Facebook: URL recognition, models, sources and flows."""
