"""Twilio SMS: ``/webhooks/sms/webhook``. Answers Twilio at once; replies go out through the REST API."""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.twiml.messaging_response import MessagingResponse

from bot.citizens.identity import CitizenView, get_citizen, identify
from bot.core import clock
from bot.core.db import DatabaseUnavailable
from bot.core.metrics import rejected
from bot.core.personal_data import InvalidPhone, digest, e164_phone
from bot.core.shared_state import SharedStateUnavailable, first_delivery
from channels.connector import (
    ChannelRuntime,
    Delivery,
    DeliveryDeferred,
    DeliveryFailed,
    DeliveryRefused,
    Incoming,
    OnNewMessage,
    channel_runtime,
    health,
    numbered_choices,
    offered_choices,
    plain_texts,
    remember_choices,
    resolve_reply,
    run_turn,
)
from channels.outbox import send_or_keep
from channels.text import EMPTY_REPLY, TOO_LONG_REPLY, clean_text, split_text, too_long
from channels.turn_order import Place
from channels.twilio.api import SmsDeliveryFailed, TwilioSms
from channels.twilio.requests import checked_form, twiml

logger = logging.getLogger(__name__)

MEDIA_REPLY = "抱歉，短信渠道暂时只能处理文字。请用文字说明您要办的事或反映的问题。"
# One reply of at most 10 UCS-2 segments: long material lists arrive as a few readable messages.
SMS_PART_CHARS = 670


def sms_sender_id(phone: str, key: str) -> str:
    """The conversation id of a phone number's SMS thread (the number itself never becomes an id)."""
    return "sms-" + digest(phone, key)[:20]


def render_sms(messages: list[dict[str, Any]]) -> list[str]:
    """The bot's responses as SMS bodies: texts, then the choices numbered "回复1：…", split to size."""
    lines = plain_texts(messages)
    choices = offered_choices(messages)
    if choices:
        lines.append(numbered_choices(choices))
    return split_text("\n".join(lines), SMS_PART_CHARS)


async def citizen_of(runtime: ChannelRuntime, phone: str, sender_id: str, channel: str = "sms") -> CitizenView | None:
    """The citizen this Twilio number (caller id or SMS sender) verifies, or None for other numbers."""
    key = str(runtime.settings.pii_hash_key)
    try:
        return await identify(runtime.database, phone, key, clock.now(), channel=channel, external_id=sender_id)
    except InvalidPhone:
        return None
    except DatabaseUnavailable:
        logger.warning("citizen lookup failed: the project database is unavailable")
        return None


class TwilioSmsInput(InputChannel):
    """Text messages to the hotline number."""

    @classmethod
    def name(cls) -> str:
        """The channel's name and URL prefix."""
        return "sms"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Settings come from bot/core/settings.py, not from credentials.yml."""
        return cls()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The channel's routes."""
        webhook = Blueprint("hotline_sms", __name__)

        webhook.add_route(health, "/", methods=["GET"])

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            runtime = channel_runtime()
            form = checked_form(request, runtime.settings, ("MessageSid", "From"), "sms")
            if isinstance(form, HTTPResponse):
                return form
            message_sid = form["MessageSid"]
            try:
                key, window = f"sms:{message_sid}", runtime.settings.dedup_window_s
                if not await first_delivery(runtime.state, runtime.database, key, window):
                    rejected("sms", "duplicate")
                    return twiml(MessagingResponse())
            except SharedStateUnavailable:
                logger.warning("sms: duplicate check unavailable, handling %s anyway", message_sid)
            fields = {name: form.get(name, "") for name in ("From", "Body", "NumMedia")}
            # In line behind the sender's earlier messages from now on: answered (and texted) in that order.
            place = runtime.line.join(sms_sender_id(fields["From"], str(runtime.settings.pii_hash_key)))
            runtime.spawn(self._answer(runtime, on_new_message, fields, place), f"sms {message_sid}")
            return twiml(MessagingResponse())

        return webhook

    async def _answer(
        self,
        runtime: ChannelRuntime,
        on_new_message: OnNewMessage,
        form: dict[str, str],
        place: Place,
    ) -> None:
        """Run the citizen's turn and text the bot's answer back, after their earlier messages."""
        async with place:
            phone = form["From"]
            sender_id = sms_sender_id(phone, str(runtime.settings.pii_hash_key))
            text = clean_text(form["Body"])
            # The number Twilio verified: where a reply kept for later is texted.
            citizen = await citizen_of(runtime, phone, sender_id)
            if not text:
                bodies = [MEDIA_REPLY if form["NumMedia"] not in ("", "0") else EMPTY_REPLY]
            elif too_long(text):
                bodies = [TOO_LONG_REPLY]
            else:
                text = await resolve_reply(runtime.state, sender_id, text)
                messages = await run_turn(on_new_message, Incoming(sender_id, text, self.name(), citizen), place)
                await remember_choices(runtime.state, sender_id, offered_choices(messages))
                bodies = render_sms(messages)
            kept = [{"text": body} for body in bodies]  # as rendered: the choices were remembered with this turn
            citizen_id = citizen.id if citizen is not None else None
            try:
                await send_or_keep(self.name(), sender_id, citizen_id, kept, lambda: send_sms(runtime, phone, bodies))
            except DeliveryFailed as error:
                logger.error("sms: the answer to %s was lost: %s", sender_id, error)


async def send_sms(runtime: ChannelRuntime, phone: str, bodies: list[str]) -> None:
    """Text ``bodies`` to ``phone`` in order.

    Raises:
        DeliveryDeferred: Twilio could not be reached or asked to try later; the bodies it did not take.
        DeliveryRefused: Twilio refused a body (an invalid number, a blocked recipient).
    """
    sender = TwilioSms.from_settings(runtime.settings)
    for index, body in enumerate(bodies):
        try:
            await sender.send(phone, body)
        except SmsDeliveryFailed as error:
            reason = f"Twilio: {error}"
            if not error.retryable:
                raise DeliveryRefused(reason) from error
            raise DeliveryDeferred(reason, [{"text": rest} for rest in bodies[index:]], error.retry_after_s) from error


async def text_citizen(citizen_id: int | None, messages: list[dict[str, Any]]) -> None:
    """Text the bot's messages to a verified citizen's number.

    Raises:
        DeliveryDeferred: Twilio could not be reached or asked to try later (what it did not take).
        DeliveryFailed: no verified number, or Twilio refused the SMS (``DeliveryRefused``).
    """
    runtime = channel_runtime()
    if citizen_id is None:
        raise DeliveryFailed("no verified number to text")
    try:
        citizen = await get_citizen(runtime.database, citizen_id)
    except DatabaseUnavailable as error:
        raise DeliveryFailed("the citizen's number could not be read") from error
    if citizen is None:
        raise DeliveryFailed("no verified number to text")
    await send_sms(runtime, e164_phone(citizen.phone), render_sms(messages))


class SmsOutbound:
    """Writing to an SMS thread later: a text to the citizen's verified number."""

    prefix = "sms-"
    holds_chat = True
    # Each SMS costs the citizen's attention and the centre's money: the place in the queue is told once.
    position_updates = False

    async def send(self, delivery: Delivery) -> None:
        """Text the messages, choices numbered."""
        await text_citizen(delivery.citizen_id, delivery.messages)

    async def thread(self, conversation_id: str, citizen_id: int | None) -> tuple[str, str]:
        """The thread itself."""
        return "sms", conversation_id
