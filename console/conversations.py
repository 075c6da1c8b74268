"""The staff side's hold on the bot's conversations: read them, add to them, and run the bot in them.

The desk (``console.desk``) keeps a conversation that is with a person whole in its tracker (the
citizen's messages, the agents' answers and notices), shows agents its transcript and the queue its
summary, and asks the bot to go on (a rating after a handoff, a 回访 after an order is closed). Each
of these goes through the Rasa agent of this server, under the conversation's lock.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.events import ConversationResumed, Event, UserUttered

from console.transcript import summary_of, transcript_of

logger = logging.getLogger(__name__)


class Conversations:
    """The conversations of this server's Rasa agent (``agent`` is set once the server has started)."""

    def __init__(self) -> None:
        self.agent: Agent | None = None

    async def transcript(self, conversation_id: str, reveal: bool = False, limit: int = 300) -> list[dict[str, Any]]:
        """What the citizen, the bot and the agents said, oldest first; numbers masked unless revealed."""
        if self.agent is None or self.agent.tracker_store is None:
            return []
        tracker = await self.agent.tracker_store.retrieve_full_tracker(conversation_id)
        return [] if tracker is None else transcript_of(tracker, reveal, limit)

    async def summary(self, conversation_id: str, latest_text: str = "") -> dict[str, Any]:
        """The bot's one-line summary of the conversation for the queue."""
        tracker = None
        if self.agent is not None and self.agent.tracker_store is not None:
            tracker = await self.agent.tracker_store.retrieve(conversation_id)
        return summary_of(tracker, latest_text)

    async def record(
        self, conversation_id: str, events: list[Event], resume: bool = False, session: bool = False
    ) -> None:
        """Append events to the conversation's tracker under its lock (resuming it first if asked).

        With ``session``, the events are a citizen's turn: a new or expired conversation starts its
        session first, as Rasa does before a message.
        """
        if self.agent is None or self.agent.processor is None:
            logger.error(
                "handoff: no Rasa agent attached; %d event(s) of %s not recorded", len(events), conversation_id
            )
            return
        processor = self.agent.processor
        async with self.agent.lock_store.lock(conversation_id):
            if session:
                tracker = await processor.fetch_tracker_and_update_session(conversation_id, CollectingOutputChannel())
            else:
                tracker = await processor.get_tracker(conversation_id)
            if resume:
                tracker.update(ConversationResumed())
            for event in events:
                tracker.update(event)
            await processor.save_tracker(tracker)

    async def trigger(
        self, conversation_id: str, intent: str, entities: dict[str, str], citizen_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Run the bot on an external intent in the conversation; its responses.

        The event carries the citizen it is about (``citizen_id`` in its metadata), as a channel's
        message would: only this server makes such events, so the actions may trust it.
        """
        if self.agent is None or self.agent.processor is None:
            return []
        processor = self.agent.processor
        if intent not in processor.domain.intents:
            logger.error("the model has no intent %s; nothing asked in %s", intent, conversation_id)
            return []
        collector = CollectingOutputChannel()
        try:
            async with self.agent.lock_store.lock(conversation_id):
                tracker = await processor.fetch_tracker_and_update_session(conversation_id, collector)
                event = UserUttered.create_external(
                    intent, [{"entity": k, "value": v} for k, v in entities.items()], tracker.get_latest_input_channel()
                )
                if citizen_id is not None:
                    event.metadata["citizen_id"] = citizen_id
                tracker.update(event, processor.domain)
                # What processor.trigger_external_user_uttered does after adding its own (metadata-less) event.
                tracker = await processor.run_action_extract_slots(collector, tracker)
                await processor._run_prediction_loop(collector, tracker)
                await processor.save_tracker(tracker)
        except Exception:
            logger.exception("%s in %s failed", intent, conversation_id)
            return []
        return list(collector.messages)
