"""`beat asset URL`: store one image (or a page's og:image) the way the asset flows do, without
a database or queue, and print `{"key", "bytes", "width", "height"}`. A URL that is refused, not
found or not a usable image exits 2 with one line saying why. `beat` finds this command
through the `beat.commands` entry point group (pyproject.toml)."""

import asyncio
import json
from typing import Annotated

import typer

from core.cli_support import UserError
from core.errors import BeatError, Permanent


def asset(url: Annotated[str, typer.Argument(help="Image or page URL (http/https)")],
          verbose: Annotated[bool, typer.Option(help="Also print url, sha256, created")]
          = False) -> None:
    """Download, compress and store one image; print its key, size and dimensions."""
    from assets.service import AssetService
    from core.config import get_settings

    async def run() -> dict[str, object]:
        service = AssetService(get_settings())
        try:
            stored = await service.store_asset(url)
        finally:
            await service.close()
        extra = {"url": stored.url, "sha256": stored.sha256, "created": stored.created,
                 "source_bytes": stored.source_bytes} if verbose else {}
        return {**stored.summary(), **extra}

    try:
        found = asyncio.run(run())
    except Permanent as exc:
        raise UserError(f"{exc.kind}: {exc}") from None
    except BeatError as exc:
        typer.echo(f"{exc.kind}: {exc}", err=True)
        raise typer.Exit(1) from None
    print(json.dumps(found))
