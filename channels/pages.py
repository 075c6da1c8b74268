"""What the project's own web pages share: their security headers, their static files, JSON bodies."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.core.clock import in_china

# Nothing but the page's own files: no inline script or style, no other origin, no framing.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}
_STATIC_NAME = re.compile(r"[a-z0-9_-]{1,64}\.(js|css|svg|png)")


def json_error(status: int, message: str) -> HTTPResponse:
    """An error as the pages read it: ``{"error": "中文说明"}``."""
    return response.json({"error": message}, status=status, headers={"Cache-Control": "no-store"})


async def static_file(directory: Path, name: str) -> HTTPResponse:
    """One of a page's script, style or image files (404 for any other name)."""
    path = directory / name
    if not _STATIC_NAME.fullmatch(name) or not path.is_file():
        return json_error(404, "没有这个文件")
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return await response.file(path, headers=headers, mime_type=_STATIC_TYPES[path.suffix])


def add_static_route(blueprint: Blueprint, directory: Path) -> None:
    """GET /static/<name>: the pages' script, style and image files in ``directory``."""

    async def static(_: Request, name: str) -> HTTPResponse:
        return await static_file(directory, name)

    blueprint.add_route(static, "/static/<name:str>", methods=["GET"])


async def page_file(page: Path, headers: dict[str, str], status: int = 200) -> HTTPResponse:
    """One of the project's HTML pages."""
    return await response.file(page, status=status, headers=headers, mime_type="text/html")


def json_object(request: Request, max_bytes: int) -> dict[str, Any] | None:
    """The request body as a JSON object, or None when it is too large, not JSON or not an object."""
    if len(request.body or b"") > max_bytes:
        return None
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deeply
        return None
    return body if isinstance(body, dict) else None


def china_time(moment: datetime) -> str:
    """An aware moment as the pages read it: China time to the second, with its offset (+08:00)."""
    return in_china(moment).isoformat(timespec="seconds")
