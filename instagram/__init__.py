"""Instagram: URL recognition, models, sources and flows."""
