"""What every connector shares: its process's services, one bot turn, the choices it offered.

A connector verifies a request, drops duplicates, then hands the citizen's text to the bot with
``run_turn``; the bot's responses come back as Rasa's collected message dicts, which the
connector renders for its medium. Choices (buttons) offered in a turn are remembered, so that a
reply of "1", "一", "第一个" or the option's exact words selects that option on any medium.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.constants import USER_INTENT_RESTART
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.catalog.choices import pick_choice, yes_or_no
from bot.citizens.identity import CitizenView
from bot.core import metrics
from bot.core.db import Database
from bot.core.settings import Settings, get_settings
from bot.core.shared_state import SharedState, SharedStateUnavailable, open_shared_state
from bot.safety.danger import BEATEN_BEFORE_ADVICE, Danger, assess, beaten_before
from channels.text import (
    BUSY_REPLY,
    NOTHING_TO_REPEAT,
    URGENT_HANDOFF_FAILED,
    asks_to_repeat,
    asks_to_start_over,
    simplified,
)
from channels.turn_order import Place, TurnLine

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


async def health(_: Request) -> HTTPResponse:
    """GET / of a connector: that it is up."""
    return response.json({"status": "ok"})


class TurnDesk(Protocol):
    """What stands around every bot turn: the handoff desk (``console.desk``)."""

    async def held_turn(self, incoming: Incoming, on_new_message: OnNewMessage) -> list[dict[str, Any]] | None:
        """The replies for a conversation that is with a person; None for an ordinary bot turn."""

    async def after_turn(self, incoming: Incoming, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The turn's replies, with a request for a person carried out."""

    async def phone_transfer(self, conversation_id: str, citizen_id: int | None, reason: str = "requested") -> None:
        """Record a call put through to the agent line."""

    async def urgent_turn(self, incoming: Incoming, danger: Danger) -> list[dict[str, Any]]:
        """After the safety reply: record the turn, stop any form, raise an urgent handoff; what follows."""


class DeliveryFailed(RuntimeError):
    """A message could not be delivered to the citizen (channel down, no way to reach them)."""


class DeliveryDeferred(DeliveryFailed):
    """The platform could not be reached or asked to try later (timeout, 5xx, 429): worth trying again.

    ``remaining`` are the messages (Rasa response dicts) it did not take, in order: those before them
    were delivered and must not be sent again. ``retry_after_s`` is the wait the platform asked for.
    """

    def __init__(self, reason: str, remaining: list[dict[str, Any]], retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.remaining = remaining
        self.retry_after_s = retry_after_s


class DeliveryRefused(DeliveryFailed):
    """The platform refused the message for good (the bot was blocked, no such chat, an invalid number)."""


@dataclass(frozen=True)
class Delivery:
    """Messages for a conversation's citizen, sent after their turn (Rasa response dicts: ``text``, ``buttons``).

    ``role`` is ``bot``, ``agent`` or ``system`` (a notice such as "人工客服 XX 已接入"); ``agent_name``
    names the agent who wrote.
    """

    conversation_id: str
    citizen_id: int | None
    messages: list[dict[str, Any]]
    role: str = "bot"
    agent_name: str | None = None


class Outbound(Protocol):
    """How a channel's citizen is written to after their turn: an agent's reply, a queue update, a notice.

    Each connector that can be written to later implements it; ``channels.registry`` registers it.
    """

    # Conversation ids of this channel start with it.
    prefix: str
    # The citizen goes on writing here while a person answers (a call is put through instead).
    holds_chat: bool
    # The citizen is told each time their place in the queue changes (not only the first time).
    position_updates: bool

    async def send(self, delivery: Delivery) -> None:
        """Deliver the messages to the conversation's citizen.

        Raises:
            DeliveryFailed: the channel did not take them, or the citizen cannot be reached there.
        """

    async def thread(self, conversation_id: str, citizen_id: int | None) -> tuple[str, str]:
        """The (channel, conversation id) in which the citizen is written to later.

        Raises:
            DeliveryFailed: the citizen cannot be reached after this conversation.
        """


# How long offered choices stay selectable by number.
CHOICES_TTL_S = 3600


@dataclass
class ChannelRuntime:
    """The process-wide services of the connectors: settings, project database, shared state."""

    settings: Settings
    database: Database
    state: SharedState
    # Bot turns in progress at once (TURN_CONCURRENCY); the others wait here, idle, so that the
    # event loop stays free to acknowledge webhooks however busy the bot is.
    turns: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    # Each conversation's messages waiting for their turn, in arrival order (``channels.turn_order``).
    line: TurnLine = field(default_factory=TurnLine)
    # Set when the agent console starts in this process; without it a request for a person is
    # answered with the bot's own words only.
    desk: TurnDesk | None = None

    def spawn(self, work: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
        """Run ``work`` after the request is answered; keep a reference and log its failure."""
        task = asyncio.get_running_loop().create_task(work, name=what)
        self.tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    async def close(self) -> None:
        """Release the database's and the shared state's connections (at the server's stop)."""
        await self.database.close()
        await self.state.close()

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background work %s failed", task.get_name(), exc_info=task.exception())


_runtime: ChannelRuntime | None = None


def channel_runtime() -> ChannelRuntime:
    """The connectors' runtime of this process, created on first use (no I/O until then)."""
    global _runtime
    if _runtime is None:
        settings = get_settings()
        _runtime = ChannelRuntime(
            settings,
            Database(settings.database_url),
            open_shared_state(settings),
            asyncio.Semaphore(settings.turn_concurrency),
        )
    return _runtime


# What Rasa reads as its restart intent (a citizen's own "/..." never reaches it: ``clean_text``).
RESTART = f"/{USER_INTENT_RESTART}"


@dataclass(frozen=True)
class Incoming:
    """A citizen's message as a connector hands it on."""

    sender_id: str
    text: str
    channel: str
    citizen: CitizenView | None = None

    @property
    def metadata(self) -> dict[str, Any]:
        """What the actions learn about where the message came from (no personal data)."""
        return {"channel": self.channel, "citizen_id": self.citizen.id if self.citizen else None}


async def run_turn(
    on_new_message: OnNewMessage, incoming: Incoming, place: Place | None = None
) -> list[dict[str, Any]]:
    """One turn: the bot's or, while a person answers, the desk's responses; never an exception.

    The responses are Rasa's message dicts (``text``, ``buttons``, ``custom``). Danger, violence and
    despair are checked first, before the desk and the dialogue policy: the safety reply comes first.
    The turn waits for the conversation's earlier messages: ``place`` is the one the connector took
    when the message arrived (and holds around its own work), else one is taken now. Counted in
    ``bot.core.metrics`` (turns and their time by channel).
    """
    started = time.perf_counter()
    incoming = replace(incoming, text=simplified(incoming.text))  # 唔係, 問: read as 唔系, 问
    try:
        async with place or channel_runtime().line.join(incoming.sender_id):
            return await _turn(on_new_message, incoming)
    finally:
        metrics.TURNS.labels(channel=incoming.channel).inc()
        metrics.TURN_SECONDS.labels(channel=incoming.channel).observe(time.perf_counter() - started)


async def _turn(on_new_message: OnNewMessage, incoming: Incoming) -> list[dict[str, Any]]:
    """The turn itself, once it is the message's turn."""
    danger = assess(incoming.text)
    if danger is not None:
        return await _safety_turn(on_new_message, incoming, danger)
    if beaten_before(incoming.text):  # no danger now, but the police is where it is reported (110, 派出所)
        return [{"recipient_id": incoming.sender_id, "text": BEATEN_BEFORE_ADVICE}]
    desk = channel_runtime().desk
    if desk is None:
        return await _bot_or_repeat(on_new_message, incoming)
    try:
        held = await desk.held_turn(incoming, on_new_message)
    except Exception:
        logger.exception("%s: the handoff desk failed before the turn of %s", incoming.channel, incoming.sender_id)
        held = None
    if held is not None:
        return held
    messages = await _bot_or_repeat(on_new_message, incoming)
    try:
        return await desk.after_turn(incoming, messages)
    except Exception:
        logger.exception("%s: the handoff desk failed after the turn of %s", incoming.channel, incoming.sender_id)
        return messages


async def _bot_or_repeat(on_new_message: OnNewMessage, incoming: Incoming) -> list[dict[str, Any]]:
    """The bot's turn, kept to be said again; or, asked for it (没听清，再说一遍), the last reply again.

    Saying it again does not touch the dialogue: a form waiting for an answer still waits for it.
    """
    state = channel_runtime().state
    if asks_to_start_over(incoming.text):  # Rasa's own restart (utter_restart says so): nothing pending stays
        incoming = replace(incoming, text=RESTART)
    elif asks_to_repeat(incoming.text):
        last = await recall_reply(state, incoming.sender_id)
        return last or [{"recipient_id": incoming.sender_id, "text": NOTHING_TO_REPEAT}]
    messages = await _bot_turn(on_new_message, incoming)
    await remember_reply(state, incoming.sender_id, messages)
    return messages


async def _safety_turn(on_new_message: OnNewMessage, incoming: Incoming, danger: Danger) -> list[dict[str, Any]]:
    """The number to call first, then the urgent handoff; the dialogue policy is not asked."""
    logger.warning(
        "%s: %s words in the turn of %s; safety reply first", incoming.channel, danger.kind, incoming.sender_id
    )
    first = {"recipient_id": incoming.sender_id, "text": danger.reply, "custom": {"safety": danger.kind}}
    desk = channel_runtime().desk
    if desk is None:  # a process without the console: the bot's turn keeps the message, after the safety reply
        logger.error("%s: no handoff desk here; no urgent handoff for %s", incoming.channel, incoming.sender_id)
        return [first, *await _bot_turn(on_new_message, incoming)]
    try:
        return [first, *await desk.urgent_turn(incoming, danger)]
    except Exception:
        logger.exception("%s: the urgent handoff of %s failed", incoming.channel, incoming.sender_id)
        return [first, {"recipient_id": incoming.sender_id, "text": URGENT_HANDOFF_FAILED}]


async def _bot_turn(on_new_message: OnNewMessage, incoming: Incoming) -> list[dict[str, Any]]:
    """One bot turn; its responses, or the busy reply when it failed or said nothing."""
    collector = CollectingOutputChannel()
    message = UserMessage(
        incoming.text,
        collector,
        incoming.sender_id,
        input_channel=incoming.channel,
        metadata=incoming.metadata,
    )
    try:
        async with channel_runtime().turns:
            await on_new_message(message)
    except Exception:
        logger.exception("%s: the turn of %s failed", incoming.channel, incoming.sender_id)
        return [{"recipient_id": incoming.sender_id, "text": BUSY_REPLY}]
    if not collector.messages:  # Rasa carries on without the answer when the action server fails
        logger.error("%s: the turn of %s produced no answer", incoming.channel, incoming.sender_id)
        return [{"recipient_id": incoming.sender_id, "text": BUSY_REPLY}]
    return list(collector.messages)


@dataclass(frozen=True)
class Choice:
    """One option offered to the citizen: what it is called and what choosing it sends.

    ``answer`` is ``"yes"`` or ``"no"`` for the options of a yes/no offer: a plain 好的 or 不用
    selects them as surely as their number or their button.
    """

    title: str
    payload: str
    answer: str | None = None


def offered_choices(messages: list[dict[str, Any]]) -> list[Choice]:
    """The buttons of the last message of a turn that had any, titles without their numbers."""
    for message in reversed(messages):
        buttons = message.get("buttons") or []
        if buttons:
            return [
                Choice(
                    title=_bare_title(str(b.get("title") or b.get("payload"))),
                    payload=str(b.get("payload")),
                    answer=b.get("answer") if b.get("answer") in ("yes", "no") else None,
                )
                for b in buttons
            ]
    return []


def _bare_title(title: str) -> str:
    head, dot, rest = title.partition(". ")
    return rest if dot and head.isdigit() else title


async def remember_reply(state: SharedState, sender_id: str, messages: list[dict[str, Any]]) -> None:
    """Keep the bot's last reply to say it again when asked (as long as its choices); best effort, logged."""
    try:
        await state.put(f"reply:{sender_id}", json.dumps(messages, ensure_ascii=False), CHOICES_TTL_S)
    except SharedStateUnavailable:
        logger.warning("last reply of %s not kept: shared state unavailable", sender_id)


async def recall_reply(state: SharedState, sender_id: str) -> list[dict[str, Any]]:
    """The bot's last reply to this sender (none when expired or the shared state is unavailable, logged)."""
    try:
        raw = await state.get(f"reply:{sender_id}")
    except SharedStateUnavailable:
        logger.warning("last reply of %s not available: shared state unavailable", sender_id)
        return []
    return list(json.loads(raw)) if raw else []


async def remember_choices(state: SharedState, sender_id: str, choices: list[Choice]) -> None:
    """Keep the choices of this turn selectable by number (or forget the old ones); best effort."""
    key = f"choices:{sender_id}"
    try:
        if not choices:
            await state.delete(key)
            return
        value = json.dumps([[c.title, c.payload, c.answer] for c in choices], ensure_ascii=False)
        await state.put(key, value, CHOICES_TTL_S)
    except SharedStateUnavailable:
        logger.warning("choices of %s not kept: shared state unavailable", sender_id)


async def recall_choices(state: SharedState, sender_id: str) -> list[Choice]:
    """The choices last offered to this sender (none when the shared state is unavailable)."""
    try:
        raw = await state.get(f"choices:{sender_id}")
    except SharedStateUnavailable:
        logger.warning("choices of %s not available: shared state unavailable", sender_id)
        return []
    if not raw:
        return []
    return [Choice(*choice) for choice in json.loads(raw)]


def select_choice(text: str, choices: list[Choice]) -> Choice | None:
    """The offered choice the citizen's reply selects: by number, ordinal, exact words, or a plain yes/no.

    Text that starts with "/" is a typed command, never an answer.
    """
    if not choices or text.lstrip()[:1] in ("/", "／"):
        return None
    index = pick_choice(text, [c.title for c in choices], loose=False)
    if index is not None:
        return choices[index]
    said = yes_or_no(text)
    if said is None:
        return None
    return next((c for c in choices if c.answer == ("yes" if said else "no")), None)


async def resolve_reply(state: SharedState, sender_id: str, text: str) -> str:
    """The text to hand to the bot: a selected choice's payload, or the citizen's own words."""
    choice = select_choice(text, await recall_choices(state, sender_id))
    return choice.payload if choice else text


def numbered_choices(choices: list[Choice], verb: str = "回复") -> str:
    """Choices as text lines for media without buttons: "回复1：在哪里办理"."""
    return "\n".join(f"{verb}{n}：{choice.title}" for n, choice in enumerate(choices, 1))


def plain_texts(messages: list[dict[str, Any]]) -> list[str]:
    """The texts of a turn's responses, in order."""
    return [str(m["text"]) for m in messages if m.get("text")]


def spoken_texts(messages: list[dict[str, Any]]) -> list[str]:
    """The texts to read aloud: an answer's short spoken form replaces its full text."""
    texts: list[str] = []
    for message in messages:
        short = (message.get("custom") or {}).get("short")
        if short and texts:
            texts[-1] = str(short)
        elif message.get("text"):
            texts.append(str(message["text"]))
    return texts


def full_answer(messages: list[dict[str, Any]], kind: str = "materials", usual_case: bool = False) -> str | None:
    """The full text of an answer of this kind (a materials list) that has a short spoken form, if any.

    Not the usual case's list given before the situation question (its keys belong to the question to
    offer it by), unless ``usual_case`` asks for it (to text it to a caller who asks for it).
    """
    previous = None
    for message in messages:
        custom = message.get("custom") or {}
        of_kind = custom.get("kind") == kind and usual_case == bool(custom.get("usual_case"))
        if custom.get("short") and of_kind and previous:
            return previous
        previous = message.get("text") or previous
    return None
