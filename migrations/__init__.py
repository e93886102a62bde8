"""Alembic migrations; schema.sql is generated from them."""
