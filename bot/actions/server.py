"""The action server process: who may call it, how large a call may be, what it releases when it stops.

rasa-sdk builds its Sanic app ("rasa_sdk") and then imports this package; ``configure_server``
then attaches to that app:

- a request middleware that refuses (401) every call but ``/health`` without the token the Rasa
  server sends (``token`` query parameter, from ``endpoints.yml``; the setting
  ``ACTION_SERVER_TOKEN``). A server without a token refuses every call. The action server trusts the
  tracker it is sent (a ``verified`` slot, a citizen id), so only the Rasa server may send one;
- its own request size limit: a call carries the whole tracker, which grows with the conversation,
  so it does not take the Rasa server's ``SANIC_REQUEST_MAX_SIZE`` (the same environment);
- a listener that closes the process's database when the server stops, so that the process exits
  on SIGTERM (an open aiosqlite connection keeps a worker thread that would hold it alive);
- sealed slot values (``bot.privacy.conversation``): the tracker of an action call is unsealed before
  the action runs, and the slot values it sets that hold a phone or ID number are sealed before
  Rasa gets them, so that what Rasa stores never holds a full number and the actions never see a
  sealed one. Without a valid encryption key the server does not start.

Where it listens is ``SANIC_HOST``, which ``python -m bot run`` sets from ``ACTION_SERVER_HOST``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import zlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import BaseHTTPResponse, HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.catalog import runtime
from bot.core.encryption import check_key, cipher
from bot.core.settings import get_settings
from bot.privacy.conversation import seal_slot_events, unseal_tracker

logger = logging.getLogger(__name__)

APP_NAME = "rasa_sdk"
TOKEN_PARAMETER = "token"
# Paths anyone may call: the readiness check says nothing but "ok".
OPEN_PATHS = frozenset({"/health"})
WEBHOOK_PATH = "/webhook"
# A tracker of a long conversation is large; this bounds a call all the same (Sanic's default is 100 MB).
ACTION_CALL_MAX_BYTES = 32 * 1024 * 1024
# The exit status of a server that refused to start (the commands' "cannot go on" status).
START_REFUSED = 3


async def release(*_: Any) -> None:
    """Close the process's database, if it was opened."""
    await runtime.close_current()


def refuse_start_on_failure(check: Callable[..., Awaitable[None]]) -> Callable[[Any, Any], Coroutine[Any, Any, None]]:
    """A start-up check whose failure ends the process (exit status 3), as Sanic would otherwise serve on without it."""

    async def checked(*args: Any) -> None:
        try:
            await check(*args)
        except Exception:
            logger.critical("start-up refused by %s", check.__name__, exc_info=True)
            logging.shutdown()
            os._exit(START_REFUSED)

    return checked


async def require_appeal_model(*_: Any) -> None:
    """Load the centre's appeal model of APPEAL_MODEL_DIR before serving: a missing or broken one stops the start."""
    from bot.appeals.model_store import configured_model, describe

    loaded = await asyncio.to_thread(configured_model)  # AppealModelError: the server does not start
    if loaded is not None:
        logger.info("appeal model of %s: %s", loaded.directory, describe(loaded.manifest))


async def warm_up(app: Sanic, *_: Any) -> None:
    """Fit the appeal classifier in a thread as the server starts, so that the first report does not wait for it."""
    from bot.appeals.classifier import current_classifier  # scikit-learn: only in the action server

    async def fit() -> None:
        await asyncio.to_thread(current_classifier)
        logger.info("appeal classifier ready")

    app.add_task(fit(), name="appeal-classifier-warm-up")


def is_authorised(given: str | None, expected: str) -> bool:
    """Whether ``given`` is the expected token (compared in constant time; never when none is expected)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


async def refuse_strangers(request: Request) -> HTTPResponse | None:
    """401 for a call without the Rasa server's token; nothing (the call goes on) otherwise."""
    if request.path in OPEN_PATHS:
        return None
    if is_authorised(request.args.get(TOKEN_PARAMETER), str(get_settings().action_server_token)):
        return None
    logger.warning("refused a call to %s %s from %s: no valid token", request.method, request.path, request.ip)
    return response.json({"error": "unauthorised"}, status=401)


async def unseal_call(request: Request) -> None:
    """Unseal the slot values of an action call's tracker, in the body rasa-sdk is about to read."""
    if request.path != WEBHOOK_PATH or request.method != "POST":
        return
    if request.headers.get("Content-Encoding") == "deflate":
        call = json.loads(zlib.decompress(request.body))
        if isinstance(call, dict) and isinstance(call.get("tracker"), dict):
            unseal_tracker(call["tracker"])
        request.body = zlib.compress(json.dumps(call).encode())
        return
    call = request.json  # parsed once and kept: rasa-sdk reads this same object
    if isinstance(call, dict) and isinstance(call.get("tracker"), dict):
        unseal_tracker(call["tracker"])


async def seal_answer(request: Request, answer: BaseHTTPResponse) -> None:
    """Seal the slot values that hold a phone or ID number in an action's events, before Rasa gets them."""
    if request.path != WEBHOOK_PATH or answer.status != 200 or not answer.body:
        return
    result = json.loads(answer.body)
    if isinstance(result, dict) and isinstance(result.get("events"), list):
        seal_slot_events(result["events"])
        answer.body = json.dumps(result, ensure_ascii=False).encode()


async def check_encryption_key(*_: Any) -> None:
    """Refuse to start without a valid encryption key, or with one that does not decrypt the stored data.

    A database that cannot be read now (down, or without its tables yet) is checked by its first use instead.
    """
    cipher()
    try:
        async with runtime.current().database.engine.connect() as connection:
            await check_key(connection)
    except (SQLAlchemyError, OSError) as error:
        logger.warning("start-up: the encryption key not checked against the database: %s", type(error).__name__)


async def warn_without_token(*_: Any) -> None:
    """Say at start-up that a server without ACTION_SERVER_TOKEN refuses every call."""
    if not get_settings().action_server_token:
        logger.error("ACTION_SERVER_TOKEN is not set: the action server refuses every call (start it with make run)")


def configure_server() -> None:
    """Attach the token check, the size limit and ``release`` to the running action server's app.

    Nothing when there is none (as in tests that import the actions).
    """
    try:
        app = Sanic.get_app(APP_NAME)
    except SanicException:
        return
    app.config.REQUEST_MAX_SIZE = ACTION_CALL_MAX_BYTES
    app.register_middleware(refuse_strangers, "request")
    app.register_middleware(unseal_call, "request")
    app.register_middleware(seal_answer, "response")
    app.register_listener(refuse_start_on_failure(check_encryption_key), "before_server_start")
    app.register_listener(warn_without_token, "before_server_start")
    app.register_listener(refuse_start_on_failure(require_appeal_model), "before_server_start")
    app.register_listener(warm_up, "after_server_start")
    app.register_listener(release, "before_server_stop")


# The name bot/actions/__init__.py calls (it predates the token check and the size limit).
release_at_stop = configure_server
