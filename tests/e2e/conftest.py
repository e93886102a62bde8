"""End-to-end fixtures: a fresh database per test, a launcher that stops what it started."""

from tests.e2e.support import beat, e2e_db, pool

__all__ = ["beat", "e2e_db", "pool"]
