"""What can go wrong while running a task, classified by what the worker does next.

    BeatError
    ├── Retryable            run again later, with exponential backoff and jitter
    │   ├── RateLimited      run again after `retry_after` seconds; does not use up an attempt
    │   ├── SourceUnavailable
    │   │   └── UnknownShape (core/parsing.py): an answer the parser cannot read
    │   ├── CredentialInvalid
    │   └── Unsupported      this source cannot serve this request; another may
    ├── AllSourcesFailed     every source for a capability failed: retry later
    └── Permanent            never retry: FAILED at once (not found, private, bad params)

Sources translate low-level errors (httpx, asyncpg) into these at the boundary; nothing above a
source sees a library exception. An exception that is not a BeatError is treated as Retryable:
a bug fails the task after its attempts are spent, with the traceback's last line in last_error.
"""

import random


class BeatError(Exception):
    """A task failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (type(self).__doc__ or type(self).__name__).strip())


class Retryable(BeatError):
    """A temporary failure; the task will be tried again later."""


class RateLimited(Retryable):
    """A rate limit refused the call; the task will be tried again after the wait."""

    def __init__(self, retry_after: float, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = max(0.0, retry_after)


class SourceUnavailable(Retryable):
    """The source is down or answered with a server error."""


class CredentialInvalid(Retryable):
    """The credential was refused (expired, revoked or out of quota); another may work."""


class Unsupported(Retryable):
    """This source cannot serve this request (another source may)."""


class AllSourcesFailed(Retryable):
    """Every source for this capability failed."""


class Permanent(BeatError):
    """A failure that retrying will not fix (not found, private, bad params)."""


class NotFound(Permanent):
    """The requested item does not exist on the platform."""


class BadParams(Permanent):
    """The task's params are invalid for its flow."""


def backoff_seconds(attempt: int, base: float = 2.0, cap: float = 600.0,
                    jitter: float = 0.5) -> float:
    """Exponential backoff for the given attempt (1-based), with +/- `jitter` proportional noise."""
    # The exponent stops growing long before 2.0 ** n overflows a float (attempt 1025 would).
    delay = min(cap, base * 2.0 ** min(max(0, attempt - 1), 64))
    return delay * (1 + random.uniform(-jitter, jitter))
