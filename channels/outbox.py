"""Replies that wait for their channel: what a platform could not take goes to the outbox, in order.

A connector (or the desk) hands its send to ``send_or_keep``: when messages of the same conversation
already wait in the outbox, the new ones go behind them (the citizen reads them in the order they
were written); when the platform cannot be reached or asks to try later (``DeliveryDeferred``), what
it did not take is kept and the outbox's sender (``console.notifier``) tries again with backoff; a
refusal for good (``DeliveryRefused``: the bot was blocked, no such chat) is recorded as failed with
its reason. Every kept reply is logged (no personal data) with the outbox's backlog.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.core import clock
from bot.core.db import DatabaseUnavailable
from bot.core.personal_data import mask_text
from bot.work_orders import notifications
from channels.connector import DeliveryDeferred, DeliveryFailed, DeliveryRefused, channel_runtime

logger = logging.getLogger(__name__)

Sent = TypeVar("Sent")
BEHIND_EARLIER = "earlier messages of this conversation are waiting"


async def send_or_keep(
    channel: str,
    conversation_id: str,
    citizen_id: int | None,
    messages: list[dict[str, Any]],
    send: Callable[[], Awaitable[Sent]],
    *,
    role: str = "bot",
    agent_name: str | None = None,
) -> Sent | None:
    """Send a reply now, or keep it in the outbox; what ``send`` returned, or None when it was kept or refused.

    ``messages`` are the reply as Rasa response dicts (what is kept when earlier messages wait);
    ``send`` delivers them, raising ``DeliveryDeferred`` with what it did not take.

    Raises:
        DeliveryFailed: the reply could neither be sent nor kept (the database is down too).
    """
    if not messages:
        return None
    database = channel_runtime().database
    try:
        behind = await notifications.waiting_in(database, conversation_id)
    except DatabaseUnavailable:  # nothing can be kept either: try the platform
        behind = False
    if behind:
        await _keep(channel, conversation_id, citizen_id, messages, role, agent_name, BEHIND_EARLIER, None)
        return None
    try:
        return await send()
    except DeliveryDeferred as deferred:
        retry_after = deferred.retry_after_s
        await _keep(
            channel, conversation_id, citizen_id, deferred.remaining, role, agent_name, str(deferred), retry_after
        )
    except DeliveryRefused as refused:
        await _keep(channel, conversation_id, citizen_id, messages, role, agent_name, str(refused), None, True)
    except DeliveryFailed as failed:  # not the platform's answer (not set up, no number): the outbox's few tries
        await _keep(channel, conversation_id, citizen_id, messages, role, agent_name, str(failed), None)
    return None


async def _keep(
    channel: str,
    conversation_id: str,
    citizen_id: int | None,
    messages: list[dict[str, Any]],
    role: str,
    agent_name: str | None,
    reason: str,
    retry_after_s: float | None,
    refused: bool = False,
) -> None:
    """Write the reply to the outbox (pending, or failed when refused) and log it.

    Raises:
        DeliveryFailed: the database is down: the reply is lost (logged).
    """
    if not messages:
        return
    runtime = channel_runtime()
    now = clock.now()
    behind = reason == BEHIND_EARLIER
    retry_at = None
    if not behind:
        retry_at = now + notifications.backoff(1, runtime.settings.outbox_every_s, retry_after_s)
    try:
        kept = await notifications.keep_reply(
            runtime.database,
            channel,
            conversation_id,
            citizen_id,
            messages,
            now,
            role=role,
            agent_name=agent_name,
            error="" if behind else mask_text(reason),
            next_attempt_at=retry_at,
            refused=refused,
        )
        waiting = await notifications.backlog(runtime.database)
    except DatabaseUnavailable as error:
        logger.error(
            "%s: reply to %s lost: not delivered (%s) and the outbox is unavailable",
            channel,
            conversation_id,
            mask_text(reason),
        )
        raise DeliveryFailed(f"not delivered ({reason}) and not kept: the database is unavailable") from error
    if refused:
        logger.error(
            "%s: reply to %s refused for good (outbox message %d, failed): %s",
            channel,
            conversation_id,
            kept,
            mask_text(reason),
        )
        return
    logger.warning(
        "%s: reply to %s kept in the outbox (message %d, %d part(s)): %s; outbox backlog %d",
        channel,
        conversation_id,
        kept,
        len(messages),
        mask_text(reason),
        waiting,
    )
