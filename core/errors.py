"""What can go wrong while running a task, classified by what the worker does next.

    BeatError
    ├── Retryable            run again later, with exponential backoff and jitter
    │   ├── RateLimited      run again after `retry_after` seconds; does not use up an attempt
    │   ├── SourceUnavailable
    │   │   ├── UnknownShape (core/parsing.py): an answer the parser cannot read
    │   │   └── RateLimiterUnavailable (core/ratelimit.py): no call goes out unlimited
    │   ├── CredentialInvalid
    │   ├── Unsupported      this source cannot serve this request; another may
    │   ├── AllSourcesFailed every source for a capability failed: retry later
    │   └── LeaseLost        the run no longer holds its task (its outcome is dropped)
    ├── Permanent            never retry: FAILED at once (not found, private, bad params)
    │   ├── NotFound
    │   │   └── NotVisible   nothing seen, but gone or hidden the source cannot tell
    │   ├── BadParams
    │   └── NotAuthorised  the item's owner has not authorised Beat (no owner token, revoked)
    └── KeyConflict          refused at enqueue, before any task exists: an active task holds
                             the idempotency key (the API answers 409)

Every class has a `kind`, a short snake_case name that outlives class renames: a task records
the kind of its last error in `error_kind` next to `last_error` (and in its task.* event), and
callers test the kind, never the message. The queue adds kinds of its own for outcomes that are
no exception: `timeout`, `lease_expired`, `expired`, `cancelled`, `unstorable_result`, and
`unexpected` for an exception that is not a BeatError (see KINDS).

Sources translate low-level errors (httpx, asyncpg) into these at the boundary; nothing above a
source sees a library exception. An exception that is not a BeatError is treated as Retryable:
a bug fails the task after its attempts are spent, with the traceback's last line in last_error.
"""

import random
from typing import ClassVar

# Kinds the queue records for outcomes that are not a BeatError.
TIMEOUT = "timeout"  # the run outlived its flow's timeout
LEASE_EXPIRED = "lease_expired"  # its worker stopped heartbeating (killed, frozen, cut off)
EXPIRED = "expired"  # expires_at passed before a worker picked it
CANCELLED = "cancelled"
UNEXPECTED = "unexpected"  # an exception that is not a BeatError: a bug, most likely
UNSTORABLE_RESULT = "unstorable_result"  # a result PostgreSQL cannot store as JSON
KINDS = (TIMEOUT, LEASE_EXPIRED, EXPIRED, CANCELLED, UNEXPECTED, UNSTORABLE_RESULT)


class BeatError(Exception):
    """Something Beat was asked to do failed."""

    kind: ClassVar[str] = "error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (type(self).__doc__ or type(self).__name__).strip())


def kind_of(exc: BaseException) -> str:
    """The kind a task records for `exc`: its class's, or `unexpected`."""
    return exc.kind if isinstance(exc, BeatError) else UNEXPECTED


class Retryable(BeatError):
    """A temporary failure; the task will be tried again later."""

    kind = "retryable"


class RateLimited(Retryable):
    """A rate limit refused the call; the task will be tried again after the wait."""

    kind = "rate_limited"

    def __init__(self, retry_after: float, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = max(0.0, retry_after)


class SourceUnavailable(Retryable):
    """The source is down or answered with a server error."""

    kind = "source_unavailable"


class CredentialInvalid(Retryable):
    """The credential was refused (expired, revoked or out of quota); another may work."""

    kind = "credential_invalid"


class Unsupported(Retryable):
    """This source cannot serve this request (another source may)."""

    kind = "unsupported"


class AllSourcesFailed(Retryable):
    """Every source for this capability failed."""

    kind = "all_sources_failed"


class LeaseLost(Retryable):
    """This run no longer holds its task (reaped or requeued): it stops, and the task's
    current holder goes on from the last checkpoint."""

    kind = "lease_lost"


class Permanent(BeatError):
    """A failure that retrying will not fix (not found, private, bad params)."""

    kind = "permanent"


class NotFound(Permanent):
    """The requested item does not exist on the platform."""

    kind = "not_found"


class NotVisible(NotFound):
    """The source sees no such item, but cannot tell a deleted one from one hidden from it (a
    private account's post, seen without logging in). The director asks the next sources; when
    a better source was only resting (rate-limited), the task waits for it rather than take
    this answer as final."""

    kind = "not_visible"


class BadParams(Permanent):
    """The task's params are invalid for its flow."""

    kind = "bad_params"


class NotAuthorised(Permanent):
    """The item's owner has not authorised Beat to read this (no owner token, or revoked)."""

    kind = "not_authorised"


class KeyConflict(BeatError):
    """Another active task holds this task's idempotency key."""

    kind = "key_conflict"

    def __init__(self, message: str | None = None, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position  # which of the tasks given, when several were


def backoff_seconds(attempt: int, base: float = 2.0, cap: float = 600.0,
                    jitter: float = 0.5) -> float:
    """Exponential backoff for the given attempt (1-based), with +/- `jitter` proportional noise."""
    # The exponent stops growing long before 2.0 ** n overflows a float (attempt 1025 would).
    delay = min(cap, base * 2.0 ** min(max(0, attempt - 1), 64))
    return delay * (1 + random.uniform(-jitter, jitter))
