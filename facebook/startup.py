"""`beat worker` start-up for Facebook: FACEBOOK_GRAPH_TOKENS into the credential table
(encrypted), once for every worker process."""

import logging

import asyncpg

from core.config import Settings
from credentials.crypto import Crypto
from facebook.settings import SANDBOX_GRAPH_TOKENS, FacebookSettings
from facebook.sources.tokens import import_tokens

log = logging.getLogger(__name__)


async def import_configured_tokens(settings: Settings, pool: asyncpg.Pool) -> None:
    tokens = FacebookSettings.of(settings).graph_tokens
    if not tokens:
        return
    await import_tokens(pool, Crypto.from_settings(settings), tokens)
    if settings.sandbox_url and set(tokens) <= set(SANDBOX_GRAPH_TOKENS):
        log.info("sandbox mode: Facebook Graph API calls go to the sandbox at %s, with its "
                 "built-in test token", settings.sandbox_url)
    else:
        log.info("imported %d Facebook Graph API token%s into the credential table",
                 len(tokens), "" if len(tokens) == 1 else "s")
