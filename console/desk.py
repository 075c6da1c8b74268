"""The handoff desk: where a conversation passes from the bot to a person and back.

It sits around every bot turn (``channels.connector.run_turn``):

- before the turn, a conversation that is with a person is not given to the bot: the citizen's
  message is only logged in the (paused) tracker and the console is told; while waiting, "算了"
  gives up and the bot resumes;
- after the turn, a request for a person (an action's ``{"handoff": "requested"}`` or words of
  despair) puts the conversation in the queue and pauses it for the bot (``ConversationPaused``),
  or, outside service hours, files a callback work order instead.

The console (``console.agent_console``) takes, answers, transfers and closes handoffs through
the desk; an agent's message goes out on the citizen's channel (``channels.outbound``) and is
recorded in the tracker, so the transcript is whole. Closing resumes the bot
(``ConversationResumed``) and triggers ``EXTERNAL_handoff_closed``, whose rule asks for a rating.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    SlotSet,
    UserUttered,
)

from bot.citizens.identity import get_citizen
from bot.core import clock
from bot.core.db import DatabaseUnavailable
from bot.core.shared_state import SharedStateUnavailable
from bot.handoff import records as handoffs
from bot.handoff.agents import agent_by_id, online_agents
from bot.handoff.queue import HandoffQueue, QueuedHandoff, QueueUnavailable, open_handoff_queue
from bot.handoff.records import HandoffConflict, HandoffView
from bot.handoff.service_hours import agents_on_duty, describe_hours
from bot.safety.danger import Danger
from bot.work_orders.callbacks import file_callback
from channels.connector import ChannelRuntime, DeliveryFailed, Incoming, OnNewMessage, channel_runtime
from channels.outbound import deliver
from channels.outbox import send_or_keep
from channels.registry import outbound_of, staff_label
from channels.webchat.live import ChatHub, HubUnavailable, open_chat_hub
from console.conversations import Conversations

logger = logging.getLogger(__name__)

CONSOLE = "console"
HANDOFF_KEY_TTL_S = 24 * 3600
CANCELLED_REPLY = "好的，已为您取消转人工。请问还有什么可以帮您？"
WAITING_NOTED = "已收到您的留言，客服接入后会看到。"
URGENT_WAITING = "已为您优先转接人工客服，客服马上就来，请不要离开。"
RATING_INTENT = "EXTERNAL_handoff_closed"


def _holds_chat(channel: str) -> bool:
    """Whether the citizen of this channel can be written to while a person answers."""
    outbound = outbound_of(channel)
    return outbound is not None and outbound.holds_chat


def _position_updates(channel: str) -> bool:
    """Whether the citizen of this channel is told each change of their place in the queue."""
    outbound = outbound_of(channel)
    return outbound is not None and outbound.position_updates


class NotYours(PermissionError):
    """The handoff is not assigned to this agent."""


@dataclass(frozen=True)
class Agentish:
    """Who acts in the console: an agent's id, name and role."""

    id: int
    name: str
    role: str


def _owner(agent_id: int) -> str:
    return f"agent:{agent_id}"


def queue_text(position: int, wait_minutes: int | None) -> str:
    """What the citizen is told about their place in the queue."""
    ahead = "马上为您接通" if position <= 1 else f"您前面还有{position - 1}位"
    wait = f"，预计等待约{wait_minutes}分钟" if wait_minutes and position > 1 else ""
    return f"正在为您转接人工客服，{ahead}{wait}。如不想等待，回复“算了”即可返回智能助手。"


class HandoffDesk:
    """The handoffs of one server instance, sharing the queue and the console's signals with the others."""

    def __init__(self, runtime: ChannelRuntime, queue: HandoffQueue, hub: ChatHub) -> None:
        self.runtime = runtime
        self.queue = queue
        self.hub = hub
        self.conversations = Conversations()

    # --- around every turn -------------------------------------------------------------------

    async def held_turn(self, incoming: Incoming, on_new_message: OnNewMessage) -> list[dict[str, Any]] | None:
        """For a conversation with a person: the replies to the citizen (None: an ordinary bot turn)."""
        if not _holds_chat(incoming.channel):
            return None
        handoff = await self._active(incoming.sender_id)
        if handoff is None:
            return None
        if handoff.status == handoffs.WAITING and handoffs.is_cancel(incoming.text):
            if await self.queue.claim(handoff.id, "cancelled") is None:
                await handoffs.cancel(self.runtime.database, handoff.id, clock.now())
                await self._forget(handoff.conversation_id)
                await self.conversations.record(handoff.conversation_id, [self._user(incoming)], resume=True)
                await self.conversations.record(handoff.conversation_id, [BotUttered(CANCELLED_REPLY)])
                await self.signal("queue")
                await self.announce_positions()
                logger.info("handoff %d cancelled by the citizen", handoff.id)
                return [{"recipient_id": incoming.sender_id, "text": CANCELLED_REPLY}]
            handoff = await handoffs.get_handoff(self.runtime.database, handoff.id)  # an agent took it meanwhile
        try:
            await on_new_message(
                UserMessage(
                    incoming.text,
                    CollectingOutputChannel(),
                    incoming.sender_id,
                    input_channel=incoming.channel,
                    metadata=incoming.metadata,
                )
            )
        except Exception:
            logger.exception("handoff %d: the citizen's message was not logged", handoff.id)
        await self.signal(f"handoff:{handoff.id}")
        if handoff.status == handoffs.WAITING:
            position = await self.queue.position(handoff.id)
            text = WAITING_NOTED + (f"您前面还有{position - 1}位。" if position and position > 1 else "")
            return [{"recipient_id": incoming.sender_id, "text": text}]
        return []

    async def after_turn(self, incoming: Incoming, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The turn's replies, with a request for a person turned into a place in the queue."""
        request = next(((m.get("custom") or {}) for m in messages if (m.get("custom") or {}).get("handoff")), None)
        if request is None or not _holds_chat(incoming.channel):
            return messages
        kept = [m for m in messages if not (m.get("custom") or {}).get("handoff")]
        answer = await self._queue_or_explain(incoming, str(request.get("reason") or "requested"))
        return [*kept, {"recipient_id": incoming.sender_id, "text": answer}]

    async def urgent_turn(self, incoming: Incoming, danger: Danger) -> list[dict[str, Any]]:
        """After the safety reply: record the turn, stop any form, raise an urgent handoff; what follows.

        The citizen's words and the safety reply go into the conversation (the agent reads them);
        the form in progress stops, so that the words are never taken as its answer. A waiting
        handoff is moved ahead of the queue; the consoles raise an alert either way.
        """
        await self.conversations.record(
            incoming.sender_id,
            [
                UserUttered(
                    incoming.text,
                    intent={"name": "emergency", "confidence": 1.0},
                    input_channel=incoming.channel,
                    metadata={**incoming.metadata, "safety": danger.kind},
                ),
                ActionExecuted("utter_emergency"),
                BotUttered(danger.reply, metadata={"safety": danger.kind}),
                ActiveLoop(None),
                SlotSet(REQUESTED_SLOT, None),
                ActionExecuted(ACTION_LISTEN_NAME),
            ],
            session=True,
        )
        reason = danger.handoff_reason
        if not _holds_chat(incoming.channel):  # the phone: the call is put through after the words are said
            return [{"custom": {"handoff": "requested", "reason": reason, "urgent": True}}]
        active = await self._active(incoming.sender_id)
        if active is None:
            answer = await self._queue_or_explain(incoming, reason)
            return [{"recipient_id": incoming.sender_id, "text": answer}]
        if await handoffs.make_urgent(self.runtime.database, active.id, reason, clock.now()):
            if active.status == handoffs.WAITING:
                await self.queue.enqueue(active.id, handoffs.URGENT_PRIORITY, active.created_at.timestamp())
            logger.warning("handoff %d raised to urgent (%s)", active.id, danger.kind)
        await self.signal("queue")
        await self.signal(f"handoff:{active.id}")
        await self.announce_positions()
        if active.status == handoffs.WAITING:
            return [{"recipient_id": incoming.sender_id, "text": URGENT_WAITING}]
        return []

    async def _queue_or_explain(self, incoming: Incoming, reason: str) -> str:
        """Queue the conversation for a person; what to tell the citizen, also when that failed."""
        try:
            return await self._hand_off(incoming, reason)
        except (DatabaseUnavailable, QueueUnavailable, SharedStateUnavailable) as error:
            logger.error("%s: handoff of %s failed: %s", incoming.channel, incoming.sender_id, type(error).__name__)
            return "抱歉，人工服务暂时无法接通，请稍后再试，或拨打12345热线。"

    async def _hand_off(self, incoming: Incoming, reason: str) -> str:
        """Queue the conversation (or file a callback out of hours); what to tell the citizen."""
        database, settings, now = self.runtime.database, self.runtime.settings, clock.now()
        summary = await self.conversations.summary(incoming.sender_id, incoming.text)
        if not agents_on_duty(settings.agent_hours, now):
            handoff, _ = await handoffs.open_handoff(
                database, incoming.sender_id, incoming.channel, _citizen_id(incoming), reason, summary, now,
                status=handoffs.CALLBACK,
            )  # fmt: skip
            return await self._callback(handoff, f"非人工服务时间（{describe_hours(settings.agent_hours)}）")
        handoff, created = await handoffs.open_handoff(
            database, incoming.sender_id, incoming.channel, _citizen_id(incoming), reason, summary, now
        )
        if created:
            await self.queue.enqueue(handoff.id, handoff.priority, handoff.created_at.timestamp())
            await self.runtime.state.put(f"handoff:conv:{incoming.sender_id}", str(handoff.id), HANDOFF_KEY_TTL_S)
            await self.conversations.record(incoming.sender_id, [ConversationPaused()])
            await self.signal("queue")
            logger.info("handoff %d opened (%s, %s)", handoff.id, incoming.channel, reason)
        position = await self.queue.position(handoff.id) or 1
        await self._remember_position(handoff.id, position)
        return queue_text(position, await self._wait_minutes(position))

    async def _callback(self, handoff: HandoffView, why: str) -> str:
        """File a callback work order for a handoff nobody can take; what to tell the citizen."""
        database = self.runtime.database
        citizen = await get_citizen(database, handoff.citizen_id) if handoff.citizen_id else None
        if citizen is None:
            if handoff.status == handoffs.WAITING:
                await handoffs.to_callback(database, handoff.id, None, clock.now())
            await handoffs.record_audit(database, handoff.id, None, "no_callback", {"why": why}, clock.now())
            when = "稍后" if agents_on_duty(self.runtime.settings.agent_hours, clock.now()) else "在人工服务时间"
            return (
                f"抱歉，{why}，暂时无法为您接通人工客服。请{when}再联系我们，或拨打12345热线；"
                "验证手机号后，我们也可以为您登记回电。"
            )
        filed = await file_callback(
            database,
            caller=f"{staff_label(handoff.channel)}用户（{citizen.masked_phone}）",
            why=why,
            conversation_id=handoff.conversation_id,
            channel=handoff.channel,
            citizen_id=citizen.id,
            now=clock.now(),
            summary_line=str(handoff.summary.get("line", "")),
        )
        number = filed.number
        if handoff.status == handoffs.WAITING:
            await handoffs.to_callback(database, handoff.id, number, clock.now())
        else:
            await handoffs.record_audit(database, handoff.id, None, "callback", {"order": number}, clock.now())
        return f"抱歉，{why}。已为您登记回电工单，工单号{number}，客服会尽快给您尾号{citizen.phone[-4:]}的手机回电。"

    async def phone_transfer(self, conversation_id: str, citizen_id: int | None, reason: str = "requested") -> None:
        """Record a call put through to the agent line, so that the console shows its transcript."""
        try:
            summary = await self.conversations.summary(conversation_id)
            handoff, _ = await handoffs.open_handoff(
                self.runtime.database, conversation_id, "voice", citizen_id, reason, summary, clock.now(),
                status=handoffs.PHONE,
            )  # fmt: skip
        except DatabaseUnavailable:
            logger.error("handoff: the transfer of %s was not recorded, the database is unavailable", conversation_id)
            return
        await self.signal("queue")
        logger.info("handoff %d: call %s put through to the agent line", handoff.id, conversation_id)

    # --- the console ----------------------------------------------------------------------------

    async def take(self, handoff_id: int, agent: Agentish) -> HandoffView:
        """Give a waiting handoff to this agent.

        Raises:
            HandoffConflict: someone else has it, or the citizen cancelled (the message says which).
        """
        holder = await self.queue.claim(handoff_id, _owner(agent.id))
        if holder is not None:
            if holder == "cancelled":
                raise HandoffConflict("用户已取消转人工")
            if holder == "timeout":
                raise HandoffConflict("等待超时，已转为回电工单")
            # The winner may not have recorded it yet: who it is comes from the queue's claim.
            owner_id = holder.removeprefix("agent:")
            owner = await agent_by_id(self.runtime.database, int(owner_id)) if owner_id.isdigit() else None
            raise HandoffConflict(f"该会话已由客服{owner.name if owner else ''}接入")
        await handoffs.assign(self.runtime.database, handoff_id, agent.id, clock.now())
        handoff = await handoffs.get_handoff(self.runtime.database, handoff_id)
        await self._tell(handoff, f"人工客服{agent.name}已接入，请问有什么可以帮您？", agent.name, "agent_joined")
        await self.signal("queue")
        await self.signal(f"handoff:{handoff_id}")
        await self.announce_positions()
        logger.info("handoff %d taken by agent %d", handoff_id, agent.id)
        return handoff

    async def send(self, handoff: HandoffView, agent: Agentish, text: str) -> bool:
        """An agent's reply, delivered on the citizen's channel (or kept in the outbox) and recorded in the tracker.

        Returns whether it went out now (False: its channel did not take it; the outbox will send it).

        Raises:
            NotYours: the handoff is not this agent's.
            DeliveryFailed: the citizen's channel did not take it and it could not be kept either.
        """
        self._check_mine(handoff, agent)
        sent = await self._deliver(handoff, [{"text": text}], "agent", agent.name)
        await self.conversations.record(
            handoff.conversation_id, [BotUttered(text, metadata={"agent": agent.name, "handoff": handoff.id})]
        )
        await self.signal(f"handoff:{handoff.id}")
        return sent

    async def transfer(self, handoff: HandoffView, agent: Agentish, to: Agentish) -> None:
        """Give an assigned handoff to another agent."""
        self._check_mine(handoff, agent)
        await handoffs.transfer(self.runtime.database, handoff.id, agent.id, to.id, clock.now())
        await self.queue.reassign(handoff.id, _owner(to.id))
        await self._tell(handoff, f"已为您转接客服{to.name}，请稍候。", to.name, "agent_joined")
        await self.signal("queue")
        await self.signal(f"handoff:{handoff.id}")

    async def close(self, handoff: HandoffView, agent: Agentish) -> None:
        """End an assigned handoff: the bot resumes and asks the citizen to rate the service."""
        self._check_mine(handoff, agent)
        await handoffs.close(self.runtime.database, handoff.id, agent.id, clock.now())
        await self._forget(handoff.conversation_id)
        await self.conversations.record(handoff.conversation_id, [], resume=True)
        messages = await self.conversations.trigger(
            handoff.conversation_id, RATING_INTENT, {"handoff_id": str(handoff.id)}, handoff.citizen_id
        )
        left = {"custom": {"event": "agent_left"}}  # only the web chat shows it, as a notice
        try:
            await deliver(handoff.channel, handoff.conversation_id, handoff.citizen_id, [left], "system")
        except DeliveryFailed as error:  # a notice without words: nothing to keep for later
            logger.warning("handoff %d: end notice not shown: %s", handoff.id, error)
        try:
            await self._deliver(handoff, messages)
        except DeliveryFailed as error:
            logger.warning("handoff %d: rating question not delivered: %s", handoff.id, error)
        await self.signal("queue")
        await self.signal(f"handoff:{handoff.id}")
        await self.signal("stats")
        logger.info("handoff %d closed by agent %d", handoff.id, agent.id)

    def _check_mine(self, handoff: HandoffView, agent: Agentish) -> None:
        if handoff.status != handoffs.ASSIGNED:
            raise HandoffConflict("该会话已结束")
        if handoff.agent_id != agent.id:
            raise NotYours(handoff.id)

    # --- timeouts and queue updates -----------------------------------------------------------

    async def sweep(self) -> int:
        """Turn handoffs nobody took in time into callbacks (never an urgent one); how many."""
        settings, database = self.runtime.settings, self.runtime.database
        deadline = clock.now() - timedelta(seconds=settings.handoff_max_wait_s)
        waiting = await handoffs.list_handoffs(database, (handoffs.WAITING,))
        # An urgent handoff waits for a person however long it takes: the console keeps alerting.
        expired = [h for h in waiting if h.created_at <= deadline and not h.urgent]
        done = 0
        for handoff in expired:
            if await self.queue.claim(handoff.id, "timeout") is not None:
                continue
            text = await self._callback(handoff, "目前客服繁忙，暂时无人接听")
            await self._forget(handoff.conversation_id)
            await self.conversations.record(handoff.conversation_id, [BotUttered(text)], resume=True)
            try:
                await self._deliver(handoff, [{"text": text}])
            except DeliveryFailed as error:
                logger.warning("handoff %d: timeout notice not delivered: %s", handoff.id, error)
            done += 1
            logger.info("handoff %d timed out", handoff.id)
        if done:
            await self.signal("queue")
            await self.announce_positions()
        return done

    async def run_sweeper(self) -> None:
        """Sweep every few seconds until cancelled."""
        while True:
            await asyncio.sleep(self.runtime.settings.handoff_sweep_s)
            try:
                await self.sweep()
            except (DatabaseUnavailable, QueueUnavailable, SharedStateUnavailable) as error:
                logger.warning("handoff sweep skipped: %s", type(error).__name__)

    async def announce_positions(self) -> None:
        """Tell waiting citizens on chat channels their new place in the queue."""
        try:
            waiting = await self.queue.waiting()
            for position, handoff_id in enumerate(waiting, 1):
                handoff = await handoffs.get_handoff(self.runtime.database, handoff_id)
                if not _position_updates(handoff.channel):
                    continue
                key = f"handoff:position:{handoff_id}"
                if await self.runtime.state.get(key) == str(position):
                    continue
                await self._remember_position(handoff_id, position)
                text = queue_text(position, await self._wait_minutes(position))
                await deliver(handoff.channel, handoff.conversation_id, handoff.citizen_id, [{"text": text}])
        except (DatabaseUnavailable, QueueUnavailable, SharedStateUnavailable, DeliveryFailed) as error:
            logger.warning("queue positions not announced: %s", error)

    # --- helpers ---------------------------------------------------------------------------------

    async def signal(self, signal: str) -> None:
        """Wake the consoles on every instance (best effort: they also refresh on their heartbeat)."""
        try:
            await self.hub.notify(CONSOLE, signal)
        except HubUnavailable as error:
            logger.warning("console signal %s not sent: %s", signal, error)

    async def _active(self, conversation_id: str) -> HandoffView | None:
        try:
            known = await self.runtime.state.get(f"handoff:conv:{conversation_id}")
            if known is None and await self.queue.restore_if_lost():  # Redis lost the markers with the queue
                known = await self.runtime.state.get(f"handoff:conv:{conversation_id}")
        except (SharedStateUnavailable, QueueUnavailable):
            known = "?"
        if known is None:
            return None
        return await handoffs.active_handoff(self.runtime.database, conversation_id)

    async def _forget(self, conversation_id: str) -> None:
        try:
            await self.runtime.state.delete(f"handoff:conv:{conversation_id}")
        except SharedStateUnavailable:
            logger.warning("handoff marker of %s left to expire", conversation_id)

    async def _remember_position(self, handoff_id: int, position: int) -> None:
        await self.runtime.state.put(f"handoff:position:{handoff_id}", str(position), HANDOFF_KEY_TTL_S)

    async def _wait_minutes(self, position: int) -> int | None:
        """A realistic wait: the handoffs ahead times the recent handling time, shared by the agents online."""
        database = self.runtime.database
        online = len(await online_agents(database, clock.now()))
        if online == 0:
            return None
        handling = await handoffs.average_handling_s(database)
        return max(1, math.ceil((position - 1) * handling / online / 60))

    async def _tell(self, handoff: HandoffView, text: str, agent_name: str, event: str) -> None:
        """A notice to the citizen from the console (an agent joined, a transfer), recorded in the tracker."""
        notice = {"text": text, "custom": {"event": event}}
        try:
            await self._deliver(handoff, [notice], "system", agent_name)
        except DeliveryFailed as error:
            logger.warning("handoff %d: notice not delivered: %s", handoff.id, error)
        await self.conversations.record(
            handoff.conversation_id, [BotUttered(text, metadata={"agent": agent_name, "handoff": handoff.id})]
        )

    async def _deliver(
        self, handoff: HandoffView, messages: list[dict[str, Any]], role: str = "bot", agent_name: str | None = None
    ) -> bool:
        """Send messages on the handoff's channel, or keep them in the outbox; whether they went out now.

        Raises:
            DeliveryFailed: the channel cannot be written to, or the messages were neither sent nor kept.
        """
        if outbound_of(handoff.channel) is None:
            raise DeliveryFailed(f"channel {handoff.channel!r} cannot be reached after the conversation")

        async def send() -> bool:
            await deliver(handoff.channel, handoff.conversation_id, handoff.citizen_id, messages, role, agent_name)
            return True

        sent = await send_or_keep(
            handoff.channel,
            handoff.conversation_id,
            handoff.citizen_id,
            messages,
            send,
            role=role,
            agent_name=agent_name,
        )
        return sent is True

    @staticmethod
    def _user(incoming: Incoming) -> UserUttered:
        return UserUttered(incoming.text, input_channel=incoming.channel, metadata=incoming.metadata)

    async def close_connections(self) -> None:
        """Release the queue's and the hub's connections."""
        await self.queue.close()
        await self.hub.close()


async def queued_in_database(runtime: ChannelRuntime) -> list[QueuedHandoff]:
    """The active handoffs for a queue rebuild, their conversations marked as with a person again.

    Raises:
        DatabaseUnavailable: the database is down, unreachable or too slow.
    """
    active = await handoffs.list_handoffs(runtime.database, handoffs.ACTIVE)
    for handoff in active:
        try:
            await runtime.state.put(f"handoff:conv:{handoff.conversation_id}", str(handoff.id), HANDOFF_KEY_TTL_S)
        except SharedStateUnavailable:
            logger.warning("handoff marker of %s not restored", handoff.conversation_id)
    return [
        QueuedHandoff(
            h.id,
            h.priority,
            h.created_at.timestamp(),
            None if h.status == handoffs.WAITING else _owner(h.agent_id or 0),
        )
        for h in active
    ]


def _citizen_id(incoming: Incoming) -> int | None:
    return incoming.citizen.id if incoming.citizen else None


_desk: HandoffDesk | None = None


def handoff_desk() -> HandoffDesk:
    """This process's desk, created on first use (no I/O until then)."""
    global _desk
    if _desk is None:
        runtime = channel_runtime()
        _desk = HandoffDesk(
            runtime,
            # Rebuilt from the database (with the desk's markers) whenever its store lost it.
            open_handoff_queue(runtime.settings, lambda: queued_in_database(runtime)),
            open_chat_hub(runtime.settings, channel=runtime.settings.redis_prefix + "console"),
        )
    return _desk
