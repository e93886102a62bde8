"""The Sheets part of the control API (never faulted, never counted):

    POST /_sandbox/sheets                     {title?, rows: [[...]], shared?} -> {spreadsheet_id,
                                              url}: a spreadsheet whose first tab holds `rows`
                                              (shared false: the sandbox account gets 403)
    GET  /_sandbox/sheets/{id}                everything stored: tabs with their values, and
                                              the batchUpdate requests received, in order
    GET  /_sandbox/sheets/service-account     the sandbox service account's JSON key file
"""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from sandbox.sheets.api import sheets_of

router = APIRouter(prefix="/_sandbox/sheets")


class NewSheet(BaseModel):
    title: str = "Links"
    rows: list[list[Any]] = []
    shared: bool = True


@router.post("")
async def create(request: Request, new: NewSheet) -> dict[str, str]:
    sheet = sheets_of(request).store.create(new.title, new.rows, new.shared)
    return {"spreadsheet_id": sheet.spreadsheet_id, "url": sheet.url}


@router.get("/service-account")
async def service_account(request: Request) -> dict[str, str]:
    return sheets_of(request).account.info(str(request.base_url))


@router.get("/{spreadsheet_id}")
async def read(request: Request, spreadsheet_id: str) -> dict[str, Any]:
    sheet = sheets_of(request).store.spreadsheets.get(spreadsheet_id)
    if sheet is None:
        raise HTTPException(404, f"no spreadsheet {spreadsheet_id}")
    return sheet.snapshot()
