"""What the project's pages share: how they open, times as they read them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.core.clock import UTC, china
from channels.pages import PAGE_HEADERS, PAGE_OPENING, china_time, page_file
from channels.webchat.connector import STATIC_DIR as WEBCHAT_STATIC
from console.agent_console import STATIC_DIR as CONSOLE_STATIC

PAGES = [WEBCHAT_STATIC / "index.html", *(CONSOLE_STATIC / f"{name}.html" for name in ("index", "login", "dashboard"))]
# What a whole document holds once.
ONCE = ("<!doctype", "<html", "<head>", "<meta charset", '<meta name="viewport"', "<title>", "</head>", "<body")


async def test_a_page_is_served_after_the_opening_the_pages_share(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("  <title>页</title>\n</head>\n<body></body>\n</html>\n", encoding="utf-8")
    served = await page_file(page, PAGE_HEADERS, 403)
    assert served.body == PAGE_OPENING + page.read_bytes()
    assert served.status == 403
    assert served.content_type == "text/html"
    assert served.headers["Content-Security-Policy"] == PAGE_HEADERS["Content-Security-Policy"]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: f"{page.parent.parent.name}/{page.name}")
async def test_every_page_is_one_whole_document_once_served(page: Path) -> None:
    text = (await page_file(page, PAGE_HEADERS)).body.decode("utf-8")
    assert text.startswith('<!doctype html>\n<html lang="zh-CN">\n<head>\n  <meta charset="utf-8">\n')
    for tag in ONCE:
        assert text.count(tag) == 1, tag
    assert text.rstrip().endswith("</body>\n</html>")


def test_a_moment_is_shown_in_china_time_with_its_offset() -> None:
    assert china_time(datetime(2026, 11, 27, 16, 30, 5, 123456, tzinfo=UTC)) == "2026-11-28T00:30:05+08:00"
    assert china_time(china(2026, 11, 28, 9)) == "2026-11-28T09:00:00+08:00"


def test_a_moment_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        china_time(datetime(2026, 11, 28, 9))
