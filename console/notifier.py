"""The work orders' outbox, delivered: each pending message goes out on the citizen's channel.

A notice is sent as it is. A 回访 (follow-up) starts the follow-up dialogue in the citizen's
conversation (``EXTERNAL_follow_up``), so that the answer is understood; when the model cannot do
that, the question is sent as text. A phone caller is reached by SMS, in their SMS conversation
(the channel's outbound says where the citizen is written to later). A message for the number a
citizen gave for an order (no verified citizen) is texted to that number.
Every server instance runs the loop; a message is taken by one instance per attempt.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.core import clock
from bot.core.db import DatabaseUnavailable
from bot.core.shared_state import SharedStateUnavailable
from bot.work_orders import notifications
from bot.work_orders.notifications import OutgoingMessage
from channels.connector import DeliveryFailed
from channels.outbound import deliver, reachable_thread, text_number
from console.desk import HandoffDesk

logger = logging.getLogger(__name__)

FOLLOW_UP_INTENT = "EXTERNAL_follow_up"
# How long one instance holds a message it is sending before another may try.
CLAIM_TTL_S = 600


async def send_one(desk: HandoffDesk, message: OutgoingMessage) -> None:
    """Deliver one message of the outbox.

    Raises:
        DeliveryFailed: the citizen's channel did not take it.
    """
    if message.phone is not None:
        await text_number(message.phone, [{"text": message.text}])
        return
    channel, conversation_id = await reachable_thread(message.channel, message.conversation_id, message.citizen_id)
    messages: list[dict[str, Any]] = []
    if message.kind == notifications.FOLLOW_UP:
        messages = await desk.trigger(
            conversation_id, FOLLOW_UP_INTENT, {"order_number": message.order_number}, message.citizen_id
        )
    await deliver(channel, conversation_id, message.citizen_id, messages or [{"text": message.text}])


async def deliver_pending(desk: HandoffDesk) -> int:
    """Send what the outbox holds; how many went out."""
    database, state = desk.runtime.database, desk.runtime.state
    sent = 0
    for message in await notifications.pending(database):
        if not await state.add_if_new(f"notification:{message.id}:{message.attempts}", CLAIM_TTL_S):
            continue  # another instance is sending it
        try:
            await send_one(desk, message)
        except DeliveryFailed as error:
            gave_up = await notifications.mark_failed(database, message.id, str(error))
            logger.warning(
                "notification %d (order %s) not delivered%s: %s",
                message.id,
                message.order_number,
                ", given up" if gave_up else "",
                error,
            )
            continue
        await notifications.mark_sent(database, message.id, clock.now())
        sent += 1
    return sent


async def run_notifier(desk: HandoffDesk, every_s: float) -> None:
    """Deliver the outbox every few seconds until cancelled."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await deliver_pending(desk)
        except (DatabaseUnavailable, SharedStateUnavailable) as error:
            logger.warning("outbox not delivered this time: %s", type(error).__name__)
