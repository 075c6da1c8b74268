"""The rating asked when a conversation the bot handled alone ends with a goodbye.

A conversation in which the bot served the citizen (a service answered, a progress shown, a work
order filed) ends with one question: 满意 / 基本满意 / 不满意. Not after a conversation that was only
a greeting, a safety or crisis conversation, or one handed to a person (that has its own rating).
A low rating gets an apology and the question of what could be better; the answer is kept with the
rating, its phone and ID numbers masked. Anything that is not an answer ends the question and is
handled as usual.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import messages
from bot.actions.common import (
    BACKEND_ERRORS,
    HARD_ENDINGS,
    bot_custom,
    choice_buttons,
    decline_offer,
    hotline,
    is_activation,
    is_external,
    is_stop,
    latest_intent,
    latest_text,
    message_channel,
    reads_answer,
)
from bot.actions.follow_up import MAX_WORDS, NO_WORDS, parse_rating
from bot.actions.report_form import cancelled_report
from bot.appeals.extraction import says_goodbye, takes_up_again
from bot.catalog.choices import yes_or_no
from bot.core import clock
from bot.core.personal_data import mask_text
from bot.core.scales import RATINGS, UNSATISFIED
from bot.ratings.records import add_reason, record_bot_rating

logger = logging.getLogger(__name__)

FORM = "bot_rating_form"
ASK_ACTION = "action_ask_bot_rating"
SLOTS = ("bot_rating", "bot_rating_id", "bot_rating_reason", "bot_rating_due")
# What the bot said that served the citizen (the ``kind`` of its answers): a service's materials,
# office or conditions, a case's or order's progress, a list of orders, a work order filed.
SERVED_KINDS = frozenset(
    {"materials", "office", "conditions", "time_limit", "progress", "order_progress", "order_list", "work_order"}
)
# A goodbye at the question of what could be better is no answer up to this many characters.
GOODBYE_CHARS = 8
_WORD_CHARS = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
# Intents that mean the conversation was about danger, or was with a person.
NOT_THE_BOTS = frozenset({"emergency", "request_human", "EXTERNAL_handoff_closed"})


def _session(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events of the current session."""
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "session_started":
            return events[index + 1 :]
    return events


def rating_due(events: list[dict[str, Any]]) -> bool:
    """Whether the session's goodbye should ask for a rating: the bot served the citizen alone since it last asked."""
    served = False
    for event in _session(events):
        kind = event.get("event")
        if kind in ("pause", "resume"):
            return False
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent in NOT_THE_BOTS or (event.get("metadata") or {}).get("safety"):
                return False
        elif kind == "bot":
            custom = bot_custom(event)
            if custom.get("handoff") or (event.get("metadata") or {}).get("safety"):
                return False
            served = served or custom.get("kind") in SERVED_KINDS
        elif kind == "action" and event.get("name") == ASK_ACTION:
            served = False
    return served


class ActionGoodbye(Action):
    """Says goodbye, or leaves it to the rating question when the bot served the citizen alone."""

    def name(self) -> str:
        """The action's name."""
        return "action_goodbye"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Decide whether the rating is asked (bot_rating_due); without it, goodbye. A no to the offer pending (算了吧，
        等等再说: the seventh blind set's test half, at the 督办 offer) declines it instead; a cancelled report taken
        up again goes back to it."""
        text = latest_text(tracker)
        if tracker.get_slot("pending_offer") and yes_or_no(text) is False and not says_goodbye(text):
            return [*decline_offer(dispatcher), SlotSet("bot_rating_due", False)]
        if takes_up_again(text) and cancelled_report(tracker) is not None:  # 不过我谂返，都係登记啦 (the eighth set)
            return [FollowupAction("report_form")]
        if rating_due(tracker.events):
            return [SlotSet("bot_rating_due", True)]
        dispatcher.utter_message(response="utter_goodbye")
        return [SlotSet("bot_rating_due", False)]


class ValidateBotRatingForm(Action):
    """Reads the rating, then (after 不满意) what could be better; anything else ends the question."""

    def name(self) -> str:
        """The action's name."""
        return "validate_bot_rating_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Ask the rating at the start; store an answer; give up when the message was handled as something else."""
        if is_activation(tracker, FORM):
            return [SlotSet("requested_slot", "bot_rating")]
        if not reads_answer(tracker):  # not an answer, and already answered as usual: do not ask again
            return [SlotSet("bot_rating", None), SlotSet("requested_slot", None)]
        text = latest_text(tracker)
        if is_external(tracker) or not text:
            return []
        if text[:1] in ("/", "／"):  # a typed command is no answer: the question stays, and is asked again
            return [SlotSet("bot_rating", None)] if tracker.get_slot("requested_slot") == "bot_rating" else []
        if tracker.get_slot("requested_slot") == "bot_rating_reason":
            return await self.read_reason(tracker, text)
        rating = parse_rating(text)
        if rating is None:
            return []
        rating_id = await self.store(tracker, rating)
        return [
            SlotSet("bot_rating", rating),
            SlotSet("bot_rating_reason", None),
            SlotSet("bot_rating_id", rating_id),
            SlotSet("requested_slot", "bot_rating_reason" if rating == UNSATISFIED else None),
        ]

    async def store(self, tracker: Tracker, rating: str) -> str | None:
        """Keep the rating with the channel and the time; its id, or None when the database is down."""
        try:
            rating_id = await record_bot_rating(
                hotline().database, message_channel(tracker) or "unknown", rating, clock.now()
            )
        except BACKEND_ERRORS as error:
            logger.error("rating of the bot not stored: %s", type(error).__name__)
            return None
        return str(rating_id)

    async def read_reason(self, tracker: Tracker, text: str) -> list[EventType]:
        """What could be better, kept masked with the rating; nothing when the citizen has nothing to add."""
        intent = latest_intent(tracker)
        if intent in HARD_ENDINGS - {"goodbye"}:
            return []
        # A goodbye here says there is nothing to add; a longer message is the reason whatever the NLU makes of it.
        short_goodbye = intent == "goodbye" and len(_WORD_CHARS.findall(text)) <= GOODBYE_CHARS
        nothing = intent == "thank" or short_goodbye or is_stop(text) or NO_WORDS.match(text) is not None
        reason = "" if nothing else mask_text(text)[:MAX_WORDS]
        rating_id = tracker.get_slot("bot_rating_id")
        if reason and rating_id and str(rating_id).isdigit():
            try:
                await add_reason(hotline().database, int(rating_id), text)
            except BACKEND_ERRORS as error:
                logger.error("reason of a rating not stored: %s", type(error).__name__)
        return [SlotSet("bot_rating_reason", reason), SlotSet("requested_slot", None)]


class ActionAskBotRating(Action):
    """Thanks the citizen and asks for the rating: 满意 / 基本满意 / 不满意 as buttons (on the phone: say or press)."""

    def name(self) -> str:
        """The action's name."""
        return ASK_ACTION

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """One question, the scale as buttons (a number or the words work too)."""
        dispatcher.utter_message(text=messages.ASK_BOT_RATING, buttons=choice_buttons(RATINGS))
        return []


class ActionAskBotRatingReason(Action):
    """After 不满意: an apology and what could be done better."""

    def name(self) -> str:
        """The action's name."""
        return "action_ask_bot_rating_reason"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """The apology and the question."""
        dispatcher.utter_message(text=messages.ASK_BOT_RATING_REASON)
        return []


class ActionFinishBotRating(Action):
    """Thanks for the rating (or the reason) and goodbye; nothing when the citizen did not rate."""

    def name(self) -> str:
        """The action's name."""
        return "action_finish_bot_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """The thanks that fits the rating; the slots cleared."""
        rating = tracker.get_slot("bot_rating")
        if rating == UNSATISFIED:
            dispatcher.utter_message(text=messages.THANKS_FOR_BOT_RATING_REASON)
        elif rating in RATINGS:
            dispatcher.utter_message(text=messages.THANKS_FOR_BOT_RATING)
        return [SlotSet(slot, None) for slot in SLOTS]
