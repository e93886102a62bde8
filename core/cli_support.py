"""What every `beat` command module shares: the one-line user error, settings with a database
(from the environment or a running `beat up`), and running a coroutine on uvloop."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from core import db
from core.config import ConfigError, Settings, get_settings
from core.queue import Queue

T = TypeVar("T")


class UserError(Exception):
    """An error the user can fix; printed as one line, exit code 2."""


def settings_with_database() -> Settings:
    """Settings whose DATABASE_URL is set: from the environment or from a running `beat up`,
    whose Redis and sandbox (when it started one and SANDBOX_URL is not set) come along, so
    that a command run beside it reaches what its workers reach."""
    settings = get_settings()
    if settings.database_url:
        return settings
    from core.services import running_services

    found = running_services(settings.beat_home)
    if found and found.get("database_url"):
        update = {k: v for k, v in found.items() if v}
        if settings.sandbox_url:
            update.pop("sandbox_url", None)
        return settings.model_copy(update=update)
    raise UserError("DATABASE_URL is not set and no `beat up` is running under "
                    f"{settings.beat_home}: set DATABASE_URL or start `beat up`")


def settings_for_credentials() -> Settings:
    """`settings_with_database()` whose BEAT_SECRET_KEY is usable: set and well-formed whenever
    the database is a server (UserError naming what to set otherwise)."""
    settings = settings_with_database()
    try:
        settings.secret_keys()
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    return settings


def run_async(factory: Callable[[], Awaitable[T]]) -> T:
    import uvloop

    return uvloop.run(factory())  # type: ignore[arg-type]


async def with_queue(settings: Settings, job: Callable[[Queue], Awaitable[T]]) -> T:
    assert settings.database_url
    await db.check_schema(settings.database_url)
    pool = await db.create_pool(settings.database_url)
    try:
        return await job(Queue(pool))
    finally:
        await pool.close()
