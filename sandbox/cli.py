"""`beat sandbox`: serve the sandbox over HTTP. `beat` finds this command through the
`beat.commands` entry point group (pyproject.toml)."""

from typing import Annotated

import typer


def serve(host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port")] = 8900,
          seed: Annotated[int, typer.Option(help="World seed (same seed, same data)")] = 1,
          quota: Annotated[int | None, typer.Option(help="Daily units per API key")] = None,
          latency_ms: Annotated[float, typer.Option(help="Added to every call")] = 0.0,
          error_rate: Annotated[float, typer.Option(help="Share of calls answered 503")] = 0.0,
          ) -> None:
    """Run the local stand-in for the platform APIs (YouTube Data API v3, Invidious)."""
    from sandbox.faults import Faults
    from sandbox.server import run
    from youtube.settings import SANDBOX_KEYS

    keys = None if quota is None else {k: quota for k in SANDBOX_KEYS}
    run(host, port, seed, keys, Faults(latency_ms=latency_ms, error_rate=error_rate))
