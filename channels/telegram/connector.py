"""The Telegram channel: Bot API updates in at POST /webhooks/telegram/webhook, answers sent through the Bot API.

A request is handled in this order: the secret token is checked, a repeated ``update_id`` is
dropped, the update is acknowledged at once, and the bot's turn and the replies run in the
background, so that Telegram never waits for a slow turn.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import weakref
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, Sanic, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, CallbackQuery, Contact, Location, Message, ReplyKeyboardRemove, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.citizens.identity import CitizenView, identify, linked_citizen
from bot.core import clock
from bot.core.db import DatabaseUnavailable
from bot.core.metrics import rejected
from bot.core.personal_data import InvalidPhone
from bot.core.shared_state import SharedStateUnavailable, first_delivery
from channels.connector import (
    CHOICES_TTL_S,
    ChannelRuntime,
    Delivery,
    DeliveryFailed,
    Incoming,
    OnNewMessage,
    channel_runtime,
    health,
    offered_choices,
    recall_choices,
    remember_choices,
    resolve_reply,
    run_turn,
)
from channels.outbox import send_or_keep
from channels.telegram.send import (
    Outgoing,
    ReplyMarkup,
    asks_for_phone_tail,
    callback_choice,
    close_bot,
    describe_error,
    ready_bot,
    render_turn,
    send_all,
    telegram_bot,
)
from channels.text import BUSY_REPLY, EMPTY_REPLY, TOO_LONG_REPLY, clean_text, too_long

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
WEBHOOK_PATH = f"/webhooks/{CHANNEL}/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# The update types the webhook asks Telegram for.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")

# What /start sends to the bot: a greeting.
START_TEXT = "你好"
LOCATION_TEXT = "（发送了位置）"
HELP_REPLY = (
    "我是12345政务服务便民热线的智能助手，可以帮您：\n"
    "· 查询办事要带的材料和办理地点，比如“办护照要带什么”\n"
    "· 查询办件进度，比如“查一下办件进度”\n"
    "· 反映投诉、举报、求助和建议\n"
    "有选项时，点按钮或回复序号都可以。分享手机号验证身份后，查询本人办件不用再回答手机号后四位。"
    "需要人工服务请说“转人工”，或拨打12345。"
)
EXPIRED_CHOICE_REPLY = "这个选项已过期，请重新说一下您要办的事"
TEXT_ONLY_REPLY = "目前只能处理文字消息，请用文字说明您要办的事，比如“办护照要带什么”。"
EDITED_REPLY = "修改过的消息我们无法处理，请把修改后的内容重新发送一条新消息。"
LOCATION_REPLY = "已收到您的位置。"
VERIFIED_REPLY = "已验证您的手机号 {phone}。查询您本人的办件进度时，不用再回答手机号后四位。"
NOT_OWN_CONTACT_REPLY = "只能用您本人的手机号验证身份，请点“分享手机号以验证身份”按钮分享自己的号码。"
INVALID_PHONE_REPLY = "这个号码不是有效的大陆手机号，无法用来验证身份。查询办件时也可以回答手机号后四位。"

_COMMAND = re.compile(r"/([A-Za-z0-9_]+)(?:@\w+)?(?:\s.*)?", re.DOTALL)
# Updates of one chat are handled one after another, in the order they arrived.
_chat_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()


def keyboard_key(sender_id: str) -> str:
    """The shared-state key of the message whose buttons answer the choices last offered in a chat."""
    return f"telegram:keyboard:{sender_id}"


def secret_matches(given: str | None, expected: str) -> bool:
    """Whether the request's secret token is ours (compared in constant time; never true when unset)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def command_of(text: str) -> str | None:
    """The lower-case name of a Telegram command ("/start", "/help@HotlineBot"), or None."""
    match = _COMMAND.fullmatch(text.strip())
    return match.group(1).lower() if match else None


def private_chat_of(update: Update) -> int | None:
    """The id of the private chat an update comes from, or None for groups, channels and bots."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None or user.is_bot or chat.type != ChatType.PRIVATE:
        return None
    return chat.id


@dataclass(frozen=True)
class LocatedIncoming(Incoming):
    """A message that carries the citizen's location (rounded) in its metadata."""

    location: dict[str, float] | None = None

    @property
    def metadata(self) -> dict[str, Any]:
        """The connector's metadata plus the location."""
        return {**super().metadata, "location": self.location}


@dataclass(frozen=True)
class TelegramChat:
    """One private chat being answered, and the services that answer it."""

    bot: Bot
    runtime: ChannelRuntime
    on_new_message: OnNewMessage
    chat_id: int
    user_id: int

    @property
    def sender_id(self) -> str:
        """The conversation's id in Rasa."""
        return f"tg-{self.chat_id}"

    @property
    def _keyboard_key(self) -> str:
        return keyboard_key(self.sender_id)

    async def reply(self, text: str, markup: ReplyMarkup | None = None) -> None:
        """Send one text of ours (kept in the outbox when the Bot API does not take it)."""
        await self.send([Outgoing(text, markup)])

    async def send(self, outgoing: list[Outgoing], citizen_id: int | None = None) -> Message | None:
        """Send messages in order, or keep what the Bot API did not take in the outbox (behind earlier ones).

        Returns the sent message that carries the choices, if it went out now.
        """
        messages = [each.as_message() for each in outgoing]
        try:
            return await send_or_keep(
                CHANNEL, self.sender_id, citizen_id, messages, lambda: send_all(self.bot, self.chat_id, outgoing)
            )
        except DeliveryFailed as error:  # neither sent nor kept (logged where it happened)
            logger.error("telegram: chat %s: reply lost: %s", self.chat_id, error)
            return None

    async def citizen(self) -> CitizenView | None:
        """The citizen this Telegram user was verified as, if any (None, logged, when the database is down)."""
        try:
            return await linked_citizen(self.runtime.database, CHANNEL, str(self.user_id))
        except DatabaseUnavailable as error:
            logger.warning("telegram: chat %s: identity not looked up: %s", self.chat_id, error)
            return None

    async def _remember_keyboard(self, message: Message | None, choices_offered: bool) -> None:
        """Remember which message carries the offered choices' buttons (best effort)."""
        try:
            if message is not None:
                await self.runtime.state.put(self._keyboard_key, str(message.message_id), CHOICES_TTL_S)
            elif not choices_offered:
                await self.runtime.state.delete(self._keyboard_key)
        except SharedStateUnavailable as error:
            logger.warning("telegram: chat %s: buttons not remembered: %s", self.chat_id, error)

    async def turn(self, text: str, greeting: bool = False, location: dict[str, float] | None = None) -> None:
        """Hand a text to the bot, remember the choices it offers, and send its responses."""
        citizen = await self.citizen()
        incoming = LocatedIncoming(self.sender_id, text, CHANNEL, citizen, location=location)
        messages = await run_turn(self.on_new_message, incoming)
        choices = offered_choices(messages)
        await remember_choices(self.runtime.state, self.sender_id, choices)
        offer_contact = citizen is None and (greeting or asks_for_phone_tail(messages))
        citizen_id = citizen.id if citizen is not None else None
        keyboard_message = await self.send(render_turn(messages, offer_contact), citizen_id)
        await self._remember_keyboard(keyboard_message, bool(choices))

    async def on_text(self, raw: str) -> None:
        """A text message: a command, a reply to offered choices, or the citizen's words."""
        command = command_of(raw)
        if command == "start":
            await self.turn(START_TEXT, greeting=True)
            return
        if command == "help":
            await self.reply(HELP_REPLY)
            return
        text = clean_text(raw)
        if not text:
            await self.reply(EMPTY_REPLY)
        elif too_long(text):
            await self.reply(TOO_LONG_REPLY)
        else:
            await self.turn(await resolve_reply(self.runtime.state, self.sender_id, text))

    async def on_callback(self, query: CallbackQuery) -> None:
        """A pressed button: stop its spinner, then hand the choice's payload to the bot."""
        try:
            await self.bot.answer_callback_query(query.id)
        except TelegramError as error:  # the choice still counts; the spinner stops by itself
            logger.warning(
                "telegram: chat %s: answerCallbackQuery failed: %s", self.chat_id, describe_error(error, self.bot.token)
            )
        index = callback_choice(query.data)
        choices = await recall_choices(self.runtime.state, self.sender_id)
        shown_on = await self.runtime.state.get(self._keyboard_key)
        pressed_on = str(query.message.message_id) if query.message is not None else None
        if index is None or index >= len(choices) or shown_on is None or pressed_on != shown_on:
            await self.reply(EXPIRED_CHOICE_REPLY)
            return
        await self.turn(choices[index].payload)

    async def on_contact(self, contact: Contact) -> None:
        """A shared contact: the citizen's own number links this Telegram user to the citizen."""
        if contact.user_id != self.user_id:
            await self.reply(NOT_OWN_CONTACT_REPLY)
            return
        key = str(self.runtime.settings.pii_hash_key)
        try:
            citizen = await identify(
                self.runtime.database,
                contact.phone_number,
                key,
                clock.now(),
                channel=CHANNEL,
                external_id=str(self.user_id),
            )
        except InvalidPhone:
            await self.reply(INVALID_PHONE_REPLY, ReplyKeyboardRemove())
            return
        logger.info("telegram: chat %s verified as citizen %s", self.chat_id, citizen.id)
        await self.reply(VERIFIED_REPLY.format(phone=citizen.masked_phone), ReplyKeyboardRemove())

    async def on_location(self, location: Location) -> None:
        """A shared location: acknowledged, and kept (rounded) only in the message's metadata."""
        await self.reply(LOCATION_REPLY)
        rounded = {"latitude": round(location.latitude, 4), "longitude": round(location.longitude, 4)}
        await self.turn(LOCATION_TEXT, location=rounded)

    async def on_message(self, message: Message) -> None:
        """A new message of any kind."""
        if message.text is not None:
            await self.on_text(message.text)
        elif message.contact is not None:
            await self.on_contact(message.contact)
        elif message.location is not None:
            await self.on_location(message.location)
        else:
            await self.reply(TEXT_ONLY_REPLY)


async def handle_update(update: Update, chat_id: int, on_new_message: OnNewMessage, runtime: ChannelRuntime) -> None:
    """Answer one update of a private chat, after the earlier updates of that chat; never raises."""
    lock = _chat_locks.setdefault(chat_id, asyncio.Lock())
    async with lock:
        user = update.effective_user
        if user is None:  # private_chat_of let only updates of a person through
            return
        try:
            bot = await ready_bot(runtime.settings)
        except TelegramError as error:  # the turn still runs: what cannot be sent waits in the outbox
            logger.warning(
                "telegram: the Bot API did not answer getMe: %s",
                describe_error(error, str(runtime.settings.telegram_bot_token)),
            )
            bot = telegram_bot(runtime.settings)
        chat = TelegramChat(bot, runtime, on_new_message, chat_id, user.id)
        try:
            if update.callback_query is not None:
                await chat.on_callback(update.callback_query)
            elif update.message is not None:
                await chat.on_message(update.message)
            elif update.edited_message is not None and update.edited_message.location is None:
                await chat.reply(EDITED_REPLY)  # (a live location moving edits its message: not answered)
        except (DatabaseUnavailable, SharedStateUnavailable) as error:
            logger.error("telegram: chat %s: %s", chat_id, error)
            await chat.send([Outgoing(BUSY_REPLY)])


async def register_webhook(runtime: ChannelRuntime) -> None:
    """Tell Telegram where to deliver updates, with our secret token; a failure is logged, not raised."""
    settings = runtime.settings
    if not settings.public_base_url:
        logger.error("telegram: TELEGRAM_REGISTER_WEBHOOK is on but PUBLIC_BASE_URL is empty: webhook not registered")
        return
    url = settings.public_base_url.rstrip("/") + WEBHOOK_PATH
    try:
        bot = await ready_bot(settings)
        await bot.set_webhook(
            url=url, secret_token=str(settings.telegram_secret_token), allowed_updates=list(ALLOWED_UPDATES)
        )
    except TelegramError as error:
        logger.error(
            "telegram: registering the webhook %s failed: %s",
            url,
            describe_error(error, str(settings.telegram_bot_token)),
        )
        return
    logger.info("telegram: webhook registered at %s", url)


class TelegramOutbound:
    """Writing to a Telegram chat later, through the Bot API."""

    prefix = "tg-"
    holds_chat = True
    position_updates = True

    async def send(self, delivery: Delivery) -> None:
        """Send each message to the chat, with its buttons.

        Raises:
            DeliveryDeferred: the Bot API did not take them all (the rest are ``remaining``).
            DeliveryFailed: not set up, or Telegram refused them (``DeliveryRefused``).
        """
        settings = channel_runtime().settings
        chat = delivery.conversation_id.removeprefix(self.prefix)
        if not settings.telegram_bot_token or not chat.lstrip("-").isdigit():
            raise DeliveryFailed("telegram is not configured or the chat id is malformed")
        keyboard_message = await send_all(telegram_bot(settings), int(chat), render_turn(delivery.messages))
        if keyboard_message is not None:  # its buttons answer the choices the outbound remembers
            try:
                state = channel_runtime().state
                await state.put(keyboard_key(delivery.conversation_id), str(keyboard_message.message_id), CHOICES_TTL_S)
            except SharedStateUnavailable as error:
                logger.warning("telegram: %s: buttons not remembered: %s", delivery.conversation_id, error)

    async def thread(self, conversation_id: str, citizen_id: int | None) -> tuple[str, str]:
        """The chat itself."""
        return CHANNEL, conversation_id


def _status(code: int, reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=code)


class TelegramInput(InputChannel):
    """Telegram Bot API webhook; the token and the secret come from the settings, never from credentials.yml."""

    @classmethod
    def name(cls) -> str:
        """The channel's name and URL prefix."""
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """The channel; everything it needs is read from the settings on first use."""
        return cls()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The channel's routes and its start-up and shut-down work."""
        webhook = Blueprint("hotline_telegram", __name__)

        @webhook.listener("after_server_start")
        async def start(_app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
            runtime = channel_runtime()
            if runtime.settings.telegram_register_webhook:
                await register_webhook(runtime)

        @webhook.listener("before_server_stop")
        async def stop(_app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
            await close_bot()

        webhook.add_route(health, "/", methods=["GET"])

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            runtime = channel_runtime()
            settings = runtime.settings
            if not secret_matches(request.headers.get(SECRET_HEADER), str(settings.telegram_secret_token)):
                logger.warning("telegram: an update without the right secret token was refused")
                rejected(CHANNEL, "bad_signature")
                return _status(403, "forbidden")
            try:
                body = request.json
            except InvalidUsage:
                rejected(CHANNEL, "bad_json")
                return _status(400, "the body is not JSON")
            if not isinstance(body, dict) or type(body.get("update_id")) is not int:
                rejected(CHANNEL, "bad_request")
                return _status(400, "the body is not a Telegram Update")
            try:
                update = Update.de_json(body, telegram_bot(settings))
            except (KeyError, TypeError, ValueError, AttributeError):
                rejected(CHANNEL, "bad_request")
                return _status(400, "the body is not a Telegram Update")
            try:
                key = f"telegram:update:{update.update_id}"
                if not await first_delivery(runtime.state, runtime.database, key, settings.dedup_window_s):
                    rejected(CHANNEL, "duplicate")
                    return response.empty(status=200)
            except SharedStateUnavailable as error:
                logger.error("telegram: update %s not acknowledged, shared state down: %s", update.update_id, error)
                return _status(503, "try again later")  # Telegram delivers it again
            chat_id = private_chat_of(update)
            if chat_id is not None:
                runtime.spawn(
                    handle_update(update, chat_id, on_new_message, runtime), f"telegram update {update.update_id}"
                )
            return response.empty(status=200)

        return webhook
