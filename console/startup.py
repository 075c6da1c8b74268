"""The background work of one Rasa server instance, started and stopped in one place.

At start: a database whose times were never converted to UTC (``bot.core.timestamps``), whose
schema is behind the newest migration, or whose personal data the encryption key does not decrypt
stops the instance; the handoff desk stands around every bot
turn (``channels.connector.run_turn``), the default canned phrases exist, the sweeper turns long
waits into callbacks, and the outbox is delivered; the handoff queue is rebuilt from the database
if Redis lost it (``bot.handoff.queue``) and expired ids of handled messages are deleted every hour.
At stop: that work is cancelled and every connection the instance holds is released (the action
server's kept connections too), so that the server exits promptly on SIGTERM.

Rasa starts nothing but input channels, so this is one: ``channels.registry`` lists it, it has no
routes, only the server's start and stop listeners.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import Any

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, Sanic

from bot.core import clock
from bot.core.db import Database, DatabaseUnavailable, OutdatedTimestamps, SchemaOutdated
from bot.core.encryption import PersonalDataKeyError
from bot.core.shared_state import forget_expired_handled
from bot.handoff import records as handoffs
from bot.handoff.queue import QueueUnavailable
from bot.rasa.patches import close_kept_connections
from bot.safety.danger import danger_model
from bot.safety.model import SafetyModelError
from channels.connector import OnNewMessage, channel_runtime
from console.desk import handoff_desk
from console.notifier import run_notifier

logger = logging.getLogger(__name__)

# How often expired ids of handled messages are deleted (a replay is checked against its expiry anyway).
HANDLED_PURGE_EVERY_S = 3600.0


async def start(app: Sanic) -> None:
    """Attach the desk to every turn and start the sweeper and the outbox."""
    desk = handoff_desk()
    desk.conversations.agent = app.ctx.agent
    channel_runtime().desk = desk
    database = desk.runtime.database
    try:
        try:  # old China times among new UTC ones could never be told apart; a schema behind would fail later
            await database.require_current_schema()
        except (OutdatedTimestamps, SchemaOutdated) as error:
            logger.error("start-up refused: %s (run python -m bot db upgrade)", error)
            raise
        except PersonalDataKeyError as error:
            logger.error("start-up refused: %s", error)
            raise
        await handoffs.ensure_default_phrases(database, clock.now())
    except DatabaseUnavailable as error:  # the instance still starts; phrases come with the database
        logger.warning("start-up: default phrases not added: %s", error)
    try:  # a queue its store lost (a Redis restart, this process's memory) comes back from the database
        await desk.queue.restore_if_lost()
    except QueueUnavailable as error:  # rebuilt by the first queue operation once Redis answers
        logger.warning("start-up: handoff queue not checked: %s", error)
    loop = asyncio.get_running_loop()
    app.ctx.background = [
        loop.create_task(desk.run_sweeper(), name="handoff-sweeper"),
        loop.create_task(run_notifier(desk, desk.runtime.settings.outbox_every_s), name="outbox"),
        loop.create_task(forget_handled_messages(database), name="handled-messages"),
    ]


async def prepare() -> None:
    """Before the server takes any message: train the safety model (a few seconds, off the event loop), so that
    no citizen's first message waits for it; a model that cannot be trained refuses the start."""
    try:
        await asyncio.to_thread(danger_model)
    except SafetyModelError as error:
        logger.error("start-up refused: %s", error)
        raise


async def forget_handled_messages(database: Database, every_s: float = HANDLED_PURGE_EVERY_S) -> None:
    """Delete expired ids of handled messages (the duplicate check's lasting copy) until cancelled."""
    while True:
        try:
            forgotten = await forget_expired_handled(database, clock.now())
            if forgotten:
                logger.info("%d expired ids of handled messages deleted", forgotten)
        except DatabaseUnavailable as error:
            logger.warning("expired ids of handled messages not deleted: %s", error)
        await asyncio.sleep(every_s)


async def stop(app: Sanic) -> None:
    """Cancel the background work and release the desk's and the connectors' connections."""
    for task in getattr(app.ctx, "background", []):
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
    await handoff_desk().close_connections()
    await channel_runtime().close()
    await close_kept_connections()


class InstanceWork(InputChannel):
    """The instance's background work, as a Rasa input without routes."""

    @classmethod
    def name(cls) -> str:
        """Rasa's name of this input."""
        return "hotline_instance"

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """Only the listeners: before the start, at the start and at the stop."""
        work = Blueprint("hotline_instance", __name__)

        @work.listener("before_server_start")
        async def preparing(app: Sanic, _: Any) -> None:
            await prepare()

        @work.listener("after_server_start")
        async def started(app: Sanic, _: Any) -> None:
            await start(app)

        @work.listener("before_server_stop")
        async def stopping(app: Sanic, _: Any) -> None:
            await stop(app)

        return work
