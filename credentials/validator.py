"""Checks stored credentials against their platform and records the verdict. Each source's check
comes from the platform that uses it (`Platform.credential_checks`); Graph API tokens, shared by
the Graph-based platforms, are checked here (credentials/graph.py)."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from core.config import Settings
from core.errors import Unsupported
from core.platforms import load_attribute, registry
from credentials import graph, redact, store
from credentials.crypto import Crypto
from credentials.models import Clock, Credential, CredentialInfo, ValidationResult, utc_now

log = logging.getLogger(__name__)

# (credential, settings, clock) -> the verdict; RateLimited / SourceUnavailable when none came.
CredentialCheck = Callable[[Credential, Settings, Clock], Awaitable[ValidationResult]]
REQUIRED_SCOPES = graph.REQUIRED_SCOPES


class Validator:
    def __init__(self, settings: Settings, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.checks: dict[str, CredentialCheck] = dict.fromkeys(graph.GRAPH_SOURCES,
                                                                graph.check_token)
        for platform in registry(settings).values():
            for source, spec in platform.credential_checks.items():
                self.checks[source] = load_attribute(spec)
        redact.install()

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock = utc_now) -> "Validator":
        return cls(settings, clock)

    async def validate(self, cred: Credential) -> ValidationResult:
        """The platform's verdict. Raises RateLimited / SourceUnavailable when it gave none,
        Unsupported for a source without a check."""
        check = self.checks.get(cred.source)
        if check is None:
            raise Unsupported(f"no validation for credentials of source {cred.source!r}")
        result = await check(cred, self.settings, self.clock)
        if result.reason:
            result = replace(result, reason=redact.redact(result.reason, cred.secrets.values()))
        log.info("credential %d (%s) validated: %s", cred.id, cred.source,
                 "valid" if result.valid else result.reason)
        return result


async def validate_and_record(db: Any, crypto: Crypto, validator: Validator, cred_id: int
                              ) -> tuple[ValidationResult, CredentialInfo] | None:
    """Validate stored credential `cred_id` and store the outcome (None: no such credential).
    A spent quota also rests the credential until the reset."""
    cred = await store.get(db, crypto, cred_id)
    if cred is None:
        return None
    result = await validator.validate(cred)
    info = await store.record_validation(
        db, cred.id, valid=result.valid, scopes=result.scopes, expires_at=result.expires_at,
        data_access_expires_at=result.data_access_expires_at, reason=result.reason)
    if result.exhausted_until is not None:
        info = await store.disable_until(db, cred.id, result.exhausted_until)
    assert info is not None, f"credential {cred_id} vanished while being validated"
    return result, info
