"""X: URL recognition, models, sources and flows."""
