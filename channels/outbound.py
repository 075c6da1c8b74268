"""Messages the hotline sends without being asked: an agent's reply, a queue update, a notice.

Each goes out on the citizen's own channel, through the outbound protocol its connector registers
in ``channels.registry``. Choices are remembered as in a turn, so that the citizen can answer "1"
on any medium. A number that is no verified citizen's (the one a citizen gave for a work order) is
texted by SMS through Twilio's REST API.
"""

from __future__ import annotations

from typing import Any

from bot.core.personal_data import e164_phone
from channels.connector import Delivery, DeliveryFailed, channel_runtime, offered_choices, remember_choices
from channels.registry import outbound_of
from channels.twilio.api import TwilioSms
from channels.twilio.sms import render_sms, send_sms


async def deliver(
    channel: str,
    conversation_id: str,
    citizen_id: int | None,
    messages: list[dict[str, Any]],
    role: str = "bot",
    agent_name: str | None = None,
) -> None:
    """Send messages (Rasa response dicts: ``text``, ``buttons``) to a conversation's citizen.

    Raises:
        DeliveryFailed: the channel could not take them, or the citizen cannot be reached there.
    """
    if not messages:
        return
    outbound = outbound_of(channel)
    if outbound is None or not conversation_id.startswith(outbound.prefix):
        raise DeliveryFailed(f"channel {channel!r} cannot be reached after the conversation")
    await outbound.send(Delivery(conversation_id, citizen_id, messages, role, agent_name))
    await remember_choices(channel_runtime().state, conversation_id, offered_choices(messages))


async def reachable_thread(channel: str, conversation_id: str, citizen_id: int | None) -> tuple[str, str]:
    """The (channel, conversation id) in which a conversation's citizen is written to later.

    Raises:
        DeliveryFailed: the channel cannot be reached after the conversation.
    """
    outbound = outbound_of(channel)
    if outbound is None:
        raise DeliveryFailed(f"channel {channel!r} cannot be reached after the conversation")
    return await outbound.thread(conversation_id, citizen_id)


async def text_number(phone: str, messages: list[dict[str, Any]]) -> None:
    """Text messages (Rasa response dicts) to a phone number by SMS, choices numbered.

    Raises:
        DeliveryDeferred: Twilio could not be reached or asked to try later (the parts it did not take).
        DeliveryFailed: SMS is not set up here, or Twilio refused it (``DeliveryRefused``).
    """
    if not messages:
        return
    runtime = channel_runtime()
    if not TwilioSms.from_settings(runtime.settings).configured:
        raise DeliveryFailed("SMS is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER)")
    await send_sms(runtime, e164_phone(phone), render_sms(messages))
