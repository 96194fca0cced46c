"""The chat page: ``GET /`` and its files under ``/static/``.

No build step and nothing fetched from the internet."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from taigimed.serve.errors import APIError

STATIC = Path(__file__).resolve().parents[1] / "static"
# Only these files are served, so no path from a URL ever reaches the file system.
FILES = {"index.html": "text/html", "app.js": "text/javascript", "style.css": "text/css"}

router = APIRouter(tags=["web"])


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")


@router.get("/static/{name}", include_in_schema=False)
async def static(name: str) -> FileResponse:
    if name not in FILES:
        raise APIError(404, f"no page file {name!r}", code="not_found")
    return FileResponse(
        STATIC / name,
        media_type=f"{FILES[name]}; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )
