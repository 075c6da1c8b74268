"""Telegram's side of the channel: the Bot API client, turning the bot's responses into messages, sending them."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest

from bot.core.personal_data import mask_text
from bot.core.settings import Settings
from channels.connector import DeliveryDeferred, DeliveryRefused
from channels.text import split_text

logger = logging.getLogger(__name__)

# The Bot API's limit for the text of one message.
TELEGRAM_MAX_CHARS = 4096
# callback_data is limited to 64 bytes: a button carries "c:<number>", the choice is looked up on return.
CALLBACK_PREFIX = "c:"
# How often one message is tried when Telegram asks to slow down, and the longest wait accepted.
SEND_ATTEMPTS = 3
MAX_RETRY_WAIT_S = 30.0

SHARE_PHONE_BUTTON = "分享手机号以验证身份"
CHOOSE_PROMPT = "请选择："
SHARE_PHONE_PROMPT = "查询本人办件时，可以点下方按钮分享手机号，验证后不用再回答手机号后四位。"

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True)
class Outgoing:
    """One message to send: its text, its keyboard, and whether that keyboard holds the turn's choices.

    ``buttons`` are the choices (Rasa buttons) its keyboard shows, so that it can be kept for later as it is.
    """

    text: str
    markup: ReplyMarkup | None = None
    carries_choices: bool = False
    buttons: tuple[dict[str, Any], ...] = ()

    def as_message(self) -> dict[str, Any]:
        """The message as a Rasa response dict that ``render_turn`` renders back to this message."""
        message: dict[str, Any] = {"text": self.text}
        if self.carries_choices:
            message["buttons"] = list(self.buttons)
        return message


_bot: Bot | None = None


def telegram_bot(settings: Settings) -> Bot:
    """The process's Bot API client, created on first use (no request is made here)."""
    global _bot
    if _bot is None:
        timeout = settings.outside_call_timeout_s
        request = HTTPXRequest(
            connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout, pool_timeout=timeout
        )
        # The URL of every Bot API call holds the bot's token: httpx logs URLs at INFO, PTB at DEBUG.
        _quieten("httpx", logging.WARNING)
        _quieten("telegram", logging.INFO)
        _bot = Bot(str(settings.telegram_bot_token), base_url=settings.telegram_api_base_url, request=request)
    return _bot


def _quieten(name: str, level: int) -> None:
    """Let a library's logger pass nothing below ``level`` (it may be stricter already)."""
    logger = logging.getLogger(name)
    logger.setLevel(max(logger.getEffectiveLevel(), level))


async def ready_bot(settings: Settings) -> Bot:
    """The process's Bot API client, initialised (getMe) before its first use.

    Raises:
        TelegramError: the Bot API refused the token, did not answer in time, or could not be reached.
    """
    bot = telegram_bot(settings)
    await bot.initialize()
    return bot


async def close_bot() -> None:
    """Release the client's connections, if it was ever created."""
    global _bot
    if _bot is not None:
        await _bot.shutdown()
        _bot = None


def describe_error(error: TelegramError, token: str) -> str:
    """An error as it may be logged: no token, no personal data."""
    if isinstance(error, InvalidToken):
        return "InvalidToken: the Bot API refused the bot token"
    text = mask_text(str(error))
    if token:
        text = text.replace(token, "<token>")
    return f"{type(error).__name__}: {text}"


def choice_keyboard(titles: list[str]) -> InlineKeyboardMarkup:
    """An inline keyboard with one button per choice (one per row), each calling back "c:<number>"."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(title, callback_data=f"{CALLBACK_PREFIX}{n}")] for n, title in enumerate(titles, 1)]
    )


def contact_keyboard() -> ReplyKeyboardMarkup:
    """A one-button keyboard that shares the citizen's own phone number with the bot."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(SHARE_PHONE_BUTTON, request_contact=True)]], resize_keyboard=True, one_time_keyboard=True
    )


def callback_choice(data: str | None) -> int | None:
    """The 0-based index of the choice a button's callback data names, or None when it names none."""
    if not data or not data.startswith(CALLBACK_PREFIX):
        return None
    number = data[len(CALLBACK_PREFIX) :]
    if not number.isascii() or not number.isdigit() or int(number) < 1:
        return None
    return int(number) - 1


def asks_for_phone_tail(messages: list[dict[str, Any]]) -> bool:
    """Whether the bot's turn asks for the last four digits of the phone (the ownership question)."""
    return any("后四位" in str(m.get("text") or "") for m in messages)


def render_turn(messages: list[dict[str, Any]], offer_contact: bool = False) -> list[Outgoing]:
    """The bot's responses as Telegram messages, each at most 4096 characters.

    The buttons of the last message that has any (the choices ``offered_choices`` remembers)
    become an inline keyboard on its last part; with ``offer_contact`` the last message without
    a keyboard gets the share-your-number keyboard (or a short message of its own carries it).
    """
    with_buttons = max((i for i, m in enumerate(messages) if m.get("buttons")), default=None)
    outgoing: list[Outgoing] = []
    for index, message in enumerate(messages):
        text = str(message.get("text") or "")
        keyboard = None
        if index == with_buttons:
            buttons = message["buttons"]
            keyboard = choice_keyboard([str(b.get("title") or b.get("payload")) for b in buttons])
            text = text or CHOOSE_PROMPT
        if not text.strip():
            continue  # a data-only response (a spoken short form): nothing to show
        parts = split_text(text, TELEGRAM_MAX_CHARS)
        outgoing.extend(Outgoing(part) for part in parts[:-1])
        buttons = tuple(message["buttons"]) if keyboard is not None else ()
        outgoing.append(Outgoing(parts[-1], keyboard, carries_choices=keyboard is not None, buttons=buttons))
    if offer_contact:
        bare = [i for i, o in enumerate(outgoing) if o.markup is None]
        if bare:
            outgoing[bare[-1]] = Outgoing(outgoing[bare[-1]].text, contact_keyboard())
        else:
            outgoing.append(Outgoing(SHARE_PHONE_PROMPT, contact_keyboard()))
    return outgoing


def _seconds(retry_after: int | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)


def may_have_arrived(error: TelegramError) -> bool:
    """Whether the request went out whole and only the answer is missing (Telegram may have taken it)."""
    return isinstance(error, TimedOut) and isinstance(error.__cause__, httpx.ReadTimeout)


async def send_message(bot: Bot, chat_id: int, outgoing: Outgoing) -> Message:
    """Send one message, waiting as Telegram asks when it says "too many requests" (a short wait, a few times).

    Raises:
        DeliveryDeferred: the Bot API could not be reached, answered 5xx, did not answer in time (it
            may have taken the message: sent again, at least once) or asked to wait longer
            (``retry_after_s``); the message is among ``remaining``.
        DeliveryRefused: Telegram refused it for good (the bot was blocked, no such chat, a bad request).
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return await bot.send_message(chat_id, outgoing.text, reply_markup=outgoing.markup)
        except RetryAfter as error:
            wait_s = _seconds(error.retry_after)
            if attempt == SEND_ATTEMPTS or wait_s > MAX_RETRY_WAIT_S:
                logger.warning(
                    "telegram: chat %s: too many requests after %d attempt(s) (retry after %.0f s)",
                    chat_id,
                    attempt,
                    wait_s,
                )
                raise DeliveryDeferred(
                    f"Telegram: too many requests (retry after {wait_s:.0f} s)", [outgoing.as_message()], wait_s
                ) from error
            logger.warning("telegram: chat %s: too many requests, retrying in %.0f s", chat_id, wait_s)
            await asyncio.sleep(wait_s)
        except NetworkError as error:  # unreachable, timed out, 5xx (PTB's TimedOut is one); not a 400
            if isinstance(error, BadRequest):  # PTB counts a 400 (chat not found) among network errors
                reason = describe_error(error, bot.token)
                logger.error("telegram: chat %s: sending refused: %s", chat_id, reason)
                raise DeliveryRefused(f"Telegram: {reason}") from error
            reason = describe_error(error, bot.token)
            if may_have_arrived(error):  # at least once: a reply twice is better than none
                logger.warning(
                    "telegram: chat %s: the Bot API did not answer in time; the message may have arrived"
                    " and will be sent again: %s",
                    chat_id,
                    reason,
                )
            else:
                logger.warning("telegram: chat %s: the Bot API did not take the message: %s", chat_id, reason)
            raise DeliveryDeferred(f"Telegram: {reason}", [outgoing.as_message()]) from error
        except TelegramError as error:
            reason = describe_error(error, bot.token)
            logger.error("telegram: chat %s: sending refused: %s", chat_id, reason)
            raise DeliveryRefused(f"Telegram: {reason}") from error


async def send_all(bot: Bot, chat_id: int, messages: list[Outgoing]) -> Message | None:
    """Send messages in order; the sent message that carries the choices (None when none does).

    Raises:
        DeliveryDeferred: the Bot API did not take one; ``remaining`` are it and those after it
            (those before were delivered).
        DeliveryRefused: Telegram refused one for good.
    """
    with_choices = None
    for index, outgoing in enumerate(messages):
        try:
            sent = await send_message(bot, chat_id, outgoing)
        except DeliveryDeferred as deferred:
            remaining = [later.as_message() for later in messages[index:]]
            raise DeliveryDeferred(str(deferred), remaining, deferred.retry_after_s) from deferred
        if outgoing.carries_choices:
            with_choices = sent
    return with_choices
