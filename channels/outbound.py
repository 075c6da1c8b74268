"""Messages the hotline sends without being asked: an agent's reply, a queue update, a notice.

Each goes out on the citizen's own channel: the web chat log, Telegram, or SMS (also for phone
callers, who cannot be spoken to once the call is over). Choices are remembered as in a turn,
so that the citizen can answer "1" on any medium.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.citizens.identity import get_citizen
from bot.core.db import DatabaseUnavailable
from bot.core.personal_data import e164_phone
from channels.connector import channel_runtime, offered_choices, remember_choices
from channels.telegram.send import render_turn, send_message, telegram_bot
from channels.twilio.sms import render_sms, send_sms
from channels.webchat.connector import bot_entry_payload
from channels.webchat.log import UnknownSession, publish_to_session

logger = logging.getLogger(__name__)

# Conversation id prefixes of the channels that can be reached later.
_PREFIXES = {"webchat": "web-", "telegram": "tg-", "sms": "sms-", "voice": "voice-"}


class DeliveryFailed(RuntimeError):
    """The message could not be delivered to the citizen (channel down, no way to reach them)."""


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
    prefix = _PREFIXES.get(channel)
    if prefix is None or not conversation_id.startswith(prefix):
        raise DeliveryFailed(f"channel {channel!r} cannot be reached after the conversation")
    if channel == "webchat":
        await _to_web_chat(conversation_id.removeprefix(prefix), messages, role, agent_name)
    elif channel == "telegram":
        await _to_telegram(conversation_id.removeprefix(prefix), messages)
    else:
        await _to_phone(citizen_id, messages)
    await remember_choices(channel_runtime().state, conversation_id, offered_choices(messages))


async def _to_web_chat(session_id: str, messages: list[dict[str, Any]], role: str, agent_name: str | None) -> None:
    for message in messages:
        payload = bot_entry_payload(message) or {}
        event = (message.get("custom") or {}).get("event")
        if role == "system" and event:  # the page shows "人工客服 XX 已接入" and the like as notices
            payload["event"] = str(event)
        if not payload:
            continue
        if agent_name:
            payload["agent"] = agent_name
        try:
            await publish_to_session(session_id, role, payload)
        except (UnknownSession, DatabaseUnavailable) as error:
            raise DeliveryFailed(f"web chat: {type(error).__name__}") from error


async def _to_telegram(chat: str, messages: list[dict[str, Any]]) -> None:
    settings = channel_runtime().settings
    if not settings.telegram_bot_token or not chat.lstrip("-").isdigit():
        raise DeliveryFailed("telegram is not configured or the chat id is malformed")
    bot = telegram_bot(settings)
    for outgoing in render_turn(messages):
        if await send_message(bot, int(chat), outgoing) is None:
            raise DeliveryFailed("telegram did not take the message")


async def _to_phone(citizen_id: int | None, messages: list[dict[str, Any]]) -> None:
    runtime = channel_runtime()
    if citizen_id is None:
        raise DeliveryFailed("no verified number to text")
    try:
        citizen = await get_citizen(runtime.database, citizen_id)
    except DatabaseUnavailable as error:
        raise DeliveryFailed("the citizen's number could not be read") from error
    if citizen is None:
        raise DeliveryFailed("no verified number to text")
    if not await send_sms(runtime, e164_phone(citizen.phone), render_sms(messages)):
        raise DeliveryFailed("the SMS was not delivered")
