"""`beat worker` start-up for Instagram: the configured Graph API tokens and provider keys into
the credential table (encrypted), once for every worker process."""

import asyncpg

from core.config import Settings
from instagram.sources.graph_api.tokens import import_configured_tokens
from instagram.sources.rapidapi import import_configured_keys


async def import_configured_credentials(settings: Settings, pool: asyncpg.Pool) -> None:
    await import_configured_tokens(settings, pool)
    await import_configured_keys(settings, pool)
