"""The outbox, delivered: each pending message goes out on the citizen's channel, in order per conversation.

A notice is sent as it is. A 回访 (follow-up) starts the follow-up dialogue in the citizen's
conversation (``EXTERNAL_follow_up``), so that the answer is understood; when the model cannot do
that, the question is sent as text. A phone caller is reached by SMS, in their SMS conversation
(the channel's outbound says where the citizen is written to later). A message for the number a
citizen gave for an order (no verified citizen) is texted to that number; its 回访 is asked in the
number's SMS thread, where its answer arrives. A reply a channel could not take when it was sent
(``channels.outbox``) goes out as its channel renders it.

A conversation's messages go out in the order they were written: once one of them is not due yet
or fails, the later ones wait. A failure worth retrying (the platform unreachable, 5xx, 429) is
tried again with backoff (or after the platform's retry-after) and only what the platform did not
take; a refusal for good (the bot was blocked, no such chat) is failed at once with its reason.
Every server instance runs the loop; a message is taken by one instance per attempt.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from bot.citizens.identity import identify
from bot.core import clock
from bot.core.db import DatabaseUnavailable
from bot.core.personal_data import InvalidPhone, mask_text
from bot.core.shared_state import SharedStateUnavailable
from bot.work_orders import notifications
from bot.work_orders.notifications import OutgoingMessage
from channels.connector import DeliveryDeferred, DeliveryFailed, DeliveryRefused
from channels.outbound import deliver, reachable_thread, text_number
from console.desk import HandoffDesk

logger = logging.getLogger(__name__)

FOLLOW_UP_INTENT = "EXTERNAL_follow_up"
# How long one instance holds a message it is sending before another may try.
CLAIM_TTL_S = 600


async def send_one(desk: HandoffDesk, message: OutgoingMessage) -> None:
    """Deliver one message of the outbox.

    Raises:
        DeliveryDeferred: the platform did not take it (``remaining``: what is still to send).
        DeliveryFailed: the citizen's channel did not take it (``DeliveryRefused``: for good).
    """
    if message.phone is not None:  # the number given for an order
        if message.messages is not None:  # what Twilio did not take the last time
            await text_number(message.phone, message.messages)
        elif message.kind == notifications.FOLLOW_UP:
            await _follow_up_by_number(desk, message, message.phone)
        else:
            await text_number(message.phone, [{"text": message.text}])
        return
    channel, conversation_id = await reachable_thread(message.channel, message.conversation_id, message.citizen_id)
    if message.messages is not None:  # a reply, or what the platform did not take the last time
        await deliver(channel, conversation_id, message.citizen_id, message.messages, message.role, message.agent_name)
        return
    messages: list[dict[str, Any]] = []
    if message.kind == notifications.FOLLOW_UP:
        messages = await _started(desk, message, conversation_id, message.citizen_id)
    await deliver(channel, conversation_id, message.citizen_id, messages or [{"text": message.text}])


async def _follow_up_by_number(desk: HandoffDesk, message: OutgoingMessage, phone: str) -> None:
    """The 回访 of an order filed with only a number: asked in the number's SMS thread, as its own citizen.

    The SMS channel makes a number that writes to the hotline a citizen (Twilio vouches for the
    sender); the number is made one here, so that the answer, which can only come from it, is its own.
    """
    runtime = desk.runtime
    try:
        citizen = await identify(
            runtime.database, phone, str(runtime.settings.pii_hash_key), clock.now(), "sms", message.conversation_id
        )
    except InvalidPhone as error:
        raise DeliveryRefused("the number given for the order is not a mobile number") from error
    messages = await _started(desk, message, message.conversation_id, citizen.id)
    await deliver(
        notifications.CONTACT_CHANNEL, message.conversation_id, citizen.id, messages or [{"text": message.text}]
    )


async def _started(
    desk: HandoffDesk, message: OutgoingMessage, conversation_id: str, citizen_id: int | None
) -> list[dict[str, Any]]:
    """Start the 回访 dialogue in the conversation; its questions (none when the model cannot ask them).

    Should they not go out, the platform's ``DeliveryDeferred`` carries them, and they are kept as
    they are (``mark_deferred``): the dialogue is not started twice.
    """
    return await desk.conversations.trigger(
        conversation_id, FOLLOW_UP_INTENT, {"order_number": message.order_number}, citizen_id
    )


async def deliver_pending(desk: HandoffDesk, now: datetime | None = None) -> int:
    """Send what the outbox holds and is due (at ``now``), in order per conversation; how many went out."""
    database, state = desk.runtime.database, desk.runtime.state
    every_s = desk.runtime.settings.outbox_every_s
    now = now or clock.now()
    sent = 0
    held: set[str] = set()  # conversations whose earlier message did not go out: the later ones wait
    for message in await notifications.pending(database):
        if message.conversation_id in held:
            continue
        if not message.due(now) or not await state.add_if_new(
            f"notification:{message.id}:{message.attempts}", CLAIM_TTL_S
        ):
            held.add(message.conversation_id)  # not yet, or another instance is sending it
            continue
        try:
            await send_one(desk, message)
        except DeliveryDeferred as deferred:
            held.add(message.conversation_id)
            gave_up = await notifications.mark_deferred(
                database,
                message.id,
                str(deferred),
                now,
                every_s,
                retry_after_s=deferred.retry_after_s,
                remaining=deferred.remaining,
            )
            _log_failure(message, deferred, "given up after a day" if gave_up else "tried again later")
            continue
        except DeliveryRefused as refused:
            await notifications.mark_refused(database, message.id, str(refused))
            _log_failure(message, refused, "refused for good")
            continue
        except DeliveryFailed as error:
            if not await notifications.mark_failed(database, message.id, str(error)):
                held.add(message.conversation_id)
                _log_failure(message, error, "tried again later")
            else:
                _log_failure(message, error, "given up")
            continue
        await notifications.mark_sent(database, message.id, now)
        _log_delivered(message)
        sent += 1
    return sent


def _log_delivered(message: OutgoingMessage) -> None:
    """One line without personal data: which kept message went out (after how many failed tries)."""
    about = f"order {message.order_number}" if message.order_number else f"conversation {message.conversation_id}"
    logger.info(
        "outbox message %d (%s, %s) delivered after %d failed attempt(s)",
        message.id,
        about,
        message.kind,
        message.attempts,
    )


def _log_failure(message: OutgoingMessage, error: DeliveryFailed, outcome: str) -> None:
    """One line without personal data: which message, of which order or conversation, what happened."""
    about = f"order {message.order_number}" if message.order_number else f"conversation {message.conversation_id}"
    logger.warning(
        "outbox message %d (%s, %s) not delivered, %s: %s",
        message.id,
        about,
        message.kind,
        outcome,
        mask_text(str(error)),
    )


async def run_notifier(desk: HandoffDesk, every_s: float) -> None:
    """Deliver the outbox every few seconds until cancelled."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await deliver_pending(desk)
        except (DatabaseUnavailable, SharedStateUnavailable) as error:
            logger.warning("outbox not delivered this time: %s", type(error).__name__)
