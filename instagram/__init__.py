"""Instagram: URL recognition, models, sources (Graph API first, then a RapidAPI-style provider,
then the web JSON), flows, storage and metrics."""
