"""The action server process: what it releases when it stops.

rasa-sdk builds its Sanic app ("rasa_sdk") and then imports this package; the listener registered
here closes the process's database when the server stops, so that the process exits on SIGTERM
(an open aiosqlite connection keeps a worker thread that would hold it alive).
"""

from __future__ import annotations

from typing import Any

from sanic import Sanic
from sanic.exceptions import SanicException

from bot.catalog import runtime

APP_NAME = "rasa_sdk"


async def release(*_: Any) -> None:
    """Close the process's database, if it was opened."""
    await runtime.close_current()


def release_at_stop() -> None:
    """Register ``release`` with the running action server's app (nothing when there is none, as in tests)."""
    try:
        app = Sanic.get_app(APP_NAME)
    except SanicException:
        return
    app.register_listener(release, "before_server_stop")
