"""Facebook's share and short links in the sandbox: what www.facebook.com/share/… and fb.watch/…
answer, a 301 to the item's own URL (facebook/urls.py `share_url` sends links here).

    GET /facebook/www/share/{p|r|v}/{code}[/]   301 to /{page}/posts/{pfbid}, /reel/{id} or
                                                /watch/?v={id} on www.facebook.com
    GET /facebook/fbwatch/{code}[/]             301 to https://www.facebook.com/watch/?v={id}

An unknown code answers 404.
"""

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import RedirectResponse

from sandbox.facebook.graph_api import graph_state

router = APIRouter(prefix="/facebook")


def _redirect(request: Request, key: str) -> RedirectResponse:
    target = graph_state(request).world.shares.get(key)
    if target is None:
        raise HTTPException(404, "This content isn't available right now")
    return RedirectResponse(target, status_code=301)


@router.get("/www/share/{kind}/{code}")
@router.get("/www/share/{kind}/{code}/")
async def share(request: Request, kind: str, code: str) -> RedirectResponse:
    return _redirect(request, f"{kind}/{code}")


@router.get("/fbwatch/{code}")
@router.get("/fbwatch/{code}/")
async def fb_watch(request: Request, code: str) -> RedirectResponse:
    return _redirect(request, f"fbwatch/{code}")
