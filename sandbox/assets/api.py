"""The sandbox's image host (/assets/): generated images, pages carrying og:image, redirects,
and the hostile answers the assets worker must survive:

    /assets/images/{n}.{jpg|png|webp}      image n (deterministic, 100 KB - 2 MB)
    /assets/pages/{n}                      an HTML page whose og:image is image n (JPEG)
    /assets/cdn/{host}/{path}              a platform's image (a YouTube thumbnail, an Instagram
                                           picture, ...): a JPEG deterministic per host and path;
                                           in sandbox mode the assets worker asks here for them
    /assets/redirect?to=URL                302 to URL (a private address, a chain, ...)
    /assets/hostile/huge.jpg               5 GB announced in Content-Length and streamed
    /assets/hostile/endless.jpg            no length, a JPEG start then zeros, ~5 GB
    /assets/hostile/html-as-jpeg.jpg       an HTML page sent as image/jpeg
    /assets/hostile/truncated.jpg          a JPEG cut in half
    /assets/hostile/bomb.png               a 40,000 x 40,000 PNG of ~200 KB
    /assets/hostile/slow.jpg               a JPEG trickled one byte a second
    /assets/hostile/no-og                  a page without og:image
"""

import asyncio
from collections.abc import AsyncIterator
from html import escape

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from sandbox.assets.images import (
    FORMATS,
    bomb_png,
    image_bytes,
    thumbnail_jpeg,
    truncated_jpeg,
)

router = APIRouter(prefix="/assets", tags=["assets"])
HUGE = 5 * 1024**3
CHUNK = bytes(256 * 1024)
MAX_IMAGE = 100_000


@router.get("/images/{n}.{ext}")
async def image(n: int, ext: str) -> Response:
    if ext not in FORMATS or not 0 <= n < MAX_IMAGE:
        raise HTTPException(404, "no such image")
    data = await asyncio.to_thread(image_bytes, n, ext)
    return Response(data, media_type=FORMATS[ext][1],
                    headers={"cache-control": "public, max-age=86400"})


@router.get("/pages/{n}")
async def page(n: int, request: Request) -> HTMLResponse:
    if not 0 <= n < MAX_IMAGE:
        raise HTTPException(404, "no such page")
    image_url = str(request.url_for("image", n=n, ext="jpg"))
    return HTMLResponse(f"""<!doctype html><html><head><title>Post {n}</title>
<meta property="og:title" content="Post {n}">
<meta property="og:image" content="{escape(image_url)}">
</head><body><p>Post {n}</p></body></html>""")


@router.get("/cdn/{host}/{path:path}")
async def cdn(host: str, path: str) -> Response:
    if "." not in host or not path:
        raise HTTPException(404, "no such image")
    data = await asyncio.to_thread(thumbnail_jpeg, f"{host.lower()}/{path}")
    return Response(data, media_type="image/jpeg",
                    headers={"cache-control": "public, max-age=86400"})


@router.get("/redirect")
async def redirect(to: str = Query(min_length=1), status: int = 302) -> RedirectResponse:
    return RedirectResponse(to, status_code=status if status in (301, 302, 303, 307, 308)
                            else 302)


async def _zeros(total: int, start: bytes = b"") -> AsyncIterator[bytes]:
    yield start
    sent = len(start)
    while sent < total:
        piece = CHUNK[: min(len(CHUNK), total - sent)]
        sent += len(piece)
        yield piece


@router.get("/hostile/huge.jpg")
async def huge() -> StreamingResponse:
    head = image_bytes(3, "jpg")[:4096]
    return StreamingResponse(_zeros(HUGE, head), media_type="image/jpeg",
                             headers={"content-length": str(HUGE)})


@router.get("/hostile/endless.jpg")
async def endless() -> StreamingResponse:
    return StreamingResponse(_zeros(HUGE, image_bytes(3, "jpg")[:4096]),
                             media_type="image/jpeg")


@router.get("/hostile/html-as-jpeg.jpg")
async def html_as_jpeg() -> Response:
    return Response("<!doctype html><html><body>Not an image</body></html>",
                    media_type="image/jpeg")


@router.get("/hostile/truncated.jpg")
async def truncated() -> Response:
    return Response(await asyncio.to_thread(truncated_jpeg), media_type="image/jpeg")


@router.get("/hostile/bomb.png")
async def bomb() -> Response:
    return Response(await asyncio.to_thread(bomb_png), media_type="image/png")


@router.get("/hostile/slow.jpg")
async def slow() -> StreamingResponse:
    async def trickle() -> AsyncIterator[bytes]:
        for byte in image_bytes(3, "jpg")[:600]:
            yield bytes([byte])
            await asyncio.sleep(1)

    return StreamingResponse(trickle(), media_type="image/jpeg")


@router.get("/hostile/no-og")
async def no_og() -> HTMLResponse:
    return HTMLResponse("<!doctype html><html><head><title>Nothing</title></head></html>")
