"""`beat credentials …`: the stored platform credentials, and the secret key that encrypts them."""

import json
import sys
from collections import Counter
from collections.abc import Iterable
from typing import Annotated, Any

import typer

from core.cli_support import UserError, run_async, settings_for_credentials, with_queue
from core.config import Settings
from core.console import columns, plural
from core.queue import Queue

credentials_app = typer.Typer(help="Platform credentials stored (encrypted) in the database.")


@credentials_app.callback(invoke_without_command=True)
def credentials_default(context: typer.Context) -> None:
    """Without a subcommand: list the credentials (as `beat credentials list`)."""
    if context.invoked_subcommand is None:
        credentials_list(source=None)


@credentials_app.command("list")
def credentials_list(source: Annotated[str | None, typer.Option(help="Only this source")] = None,
                     as_json: Annotated[bool, typer.Option(
                         "--json", help="JSON lines (secrets masked)")] = False) -> None:
    """The stored credentials with their states (usable, resting, expired, disabled) and a
    count per state, secrets masked; exit 1 if any cannot be decrypted."""
    from credentials import store

    settings = settings_for_credentials()

    async def job(queue: Queue) -> tuple[list[Any], dict[int, str]]:
        crypto = _crypto(settings)
        infos = await store.list_infos(queue.pool, source)
        return infos, await store.unreadable(queue.pool, crypto, source)

    infos, problems = run_async(lambda: with_queue(settings, job))
    states = {info.id: "cannot be decrypted" if info.id in problems else _credential_state(info)
              for info in infos}
    if as_json:
        for info in infos:
            print(json.dumps({"id": info.id, "source": info.source, "handle": info.handle,
                              "secrets": info.masked, "state": states[info.id],
                              "validated_at": info.validated_at, "expires_at": info.expires_at,
                              "last_error": info.last_error}, default=str))
    else:
        rows = [(str(info.id), info.source, info.handle or "-",
                 " ".join(f"{k}={v}" for k, v in info.masked.items()), states[info.id])
                for info in infos]
        lines = columns(("id", "source", "handle", "secrets", "state"), rows, left=5)
        print("\n".join(lines) if infos else "no credentials stored")
        if infos:
            print(_summary(states.values()))
    for problem in problems.values():
        print(f"beat: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)


@credentials_app.command("rotate-key")
def credentials_rotate_key() -> None:
    """Re-encrypt every credential with the first key of BEAT_SECRET_KEY (after setting
    BEAT_SECRET_KEY=new,old); then the old key can be dropped."""
    from credentials import store

    settings = settings_for_credentials()
    outcome = run_async(lambda: with_queue(settings,
                                            lambda q: store.rotate_key(q.pool, _crypto(settings))))
    noun = "credential" if outcome.reencrypted == 1 else "credentials"
    print(f"re-encrypted {outcome.reencrypted} {noun} with the first key")
    for problem in outcome.problems:
        print(f"beat: {problem}", file=sys.stderr)
    if outcome.problems:
        sys.exit(1)


@credentials_app.command("generate-key")
def credentials_generate_key() -> None:
    """Print a new key for BEAT_SECRET_KEY (to rotate: BEAT_SECRET_KEY=<new>,<old>)."""
    from credentials.crypto import generate_key

    print(generate_key())


def _crypto(settings: Settings) -> Any:
    from credentials.crypto import Crypto, SecretKeyError

    try:
        return Crypto.from_settings(settings)
    except SecretKeyError as exc:
        raise UserError(str(exc)) from None


def _summary(states: Iterable[str]) -> str:
    """`3 credentials: 1 resting, 2 usable` (resting and expired ones counted without their
    details)."""
    counts = Counter("undecryptable" if state == "cannot be decrypted"
                     else state.split(":")[0].split(" ")[0] for state in states)
    total = sum(counts.values())
    return (f"{plural(total, 'credential')}: "
            + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())))


def _credential_state(info: Any) -> str:
    from datetime import UTC, datetime

    if not info.enabled:
        return "disabled"
    if info.data_access_expired:
        return f"expired: {info.last_error}" if info.last_error else "expired"
    if info.resting(datetime.now(UTC)):
        return f"resting until {info.disabled_till:%Y-%m-%d %H:%M:%S}"
    return "usable"
