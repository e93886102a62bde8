"""`beat worker` start-up for X: the configured credentials (X_AUTH_TOKENS, AUTH_TOKEN:CT0)
into the credential table (encrypted, source x_graphql), once for every worker process; an
existing credential is left as it is."""

import logging

import asyncpg

from core.config import Settings
from credentials import store
from credentials.crypto import Crypto
from x.models import GRAPHQL
from x.settings import XSettings

log = logging.getLogger(__name__)


async def import_configured_credentials(settings: Settings, pool: asyncpg.Pool) -> None:
    credentials = XSettings.of(settings).credentials()
    if not credentials:
        return
    crypto = Crypto.from_settings(settings)
    for secrets in credentials:
        await store.upsert(pool, crypto, GRAPHQL, secrets)
    log.info("imported %d X credential%s into the credential table", len(credentials),
             "" if len(credentials) == 1 else "s")
