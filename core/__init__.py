"""Beat core: configuration, database, task queue, worker runtime, API and CLI."""
