"""Signing in to the dashboard: a browser cannot send `Authorization: Bearer`, so the key is
posted once and kept in an HttpOnly, SameSite=Strict cookie limited to /dashboard, which the
API key check (core.api.auth) reads for /dashboard paths only."""

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core.api.auth import DASHBOARD_COOKIE, ApiKeys
from core.api.dashboard.views import TEMPLATES, form_fields

router = APIRouter(prefix="/dashboard", include_in_schema=False)
SESSION_S = 12 * 3600


@router.get("/login", response_class=HTMLResponse)
async def login_form() -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template("login.html").render(problem=None))


@router.post("/login")
async def login(request: Request) -> Response:
    keys: ApiKeys = request.app.state.api_keys
    key = (await form_fields(request)).get("key", "").strip()
    if keys.guarded and keys.identify(key) is None:
        problem = "That is not a valid API key." if key else "Give an API key."
        return HTMLResponse(TEMPLATES.get_template("login.html").render(problem=problem),
                            status_code=status.HTTP_401_UNAUTHORIZED)
    answer = RedirectResponse("/dashboard", status.HTTP_303_SEE_OTHER)
    if keys.guarded:
        answer.set_cookie(DASHBOARD_COOKIE, key, max_age=SESSION_S, path="/dashboard",
                          httponly=True, samesite="strict",
                          secure=request.url.scheme == "https")
    return answer


@router.post("/logout")
async def logout() -> Response:
    answer = RedirectResponse("/dashboard/login", status.HTTP_303_SEE_OTHER)
    answer.delete_cookie(DASHBOARD_COOKIE, path="/dashboard")
    return answer
