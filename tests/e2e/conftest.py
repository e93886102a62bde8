"""End-to-end fixtures: a fresh database per test, a launcher that stops what it started, and
one launcher per module for the modules that start a stack of their own (`launcher`)."""

from tests.e2e.support import beat, e2e_db, launcher, pool

__all__ = ["beat", "e2e_db", "launcher", "pool"]
