"""回访 of a closed work order, and the rating of a handoff an agent closed.

Both start with an event the hotline triggers into the citizen's conversation (``EXTERNAL_follow_up``
with ``order_number``, ``EXTERNAL_handoff_closed`` with ``handoff_id``), never with the citizen's words.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import messages
from bot.actions.common import (
    BACKEND_ERRORS,
    HARD_ENDINGS,
    choice_buttons,
    hotline,
    is_activation,
    is_digression,
    is_external,
    is_stop,
    latest_intent,
    latest_text,
    reads_answer,
    report_backend_failure,
)
from bot.catalog.choices import pick_choice
from bot.core import clock
from bot.core.scales import BASICALLY_SATISFIED, RATINGS, SATISFIED, UNSATISFIED
from bot.handoff.records import HandoffNotFound, get_handoff, record_rating
from bot.work_orders.filing import InvalidOrderNumber, find_order, is_order_of_citizen, parse_order_number
from bot.work_orders.lifecycle import CLOSED, FOLLOWED_UP, InvalidTransition, OrderNotFound, record_follow_up

logger = logging.getLogger(__name__)

FOLLOW_UP_FORM = "follow_up_form"
RATING_FORM = "handoff_rating_form"
# The buttons of the first question, matched back as they are: the first means solved.
SOLVED_OPTIONS = ("已解决", "未解决")
FOLLOW_UP_SLOTS = (
    "follow_up_order",
    "follow_up_reply",
    "follow_up_solved",
    "follow_up_satisfaction",
    "follow_up_words",
)
# follow_up_satisfaction when the citizen does not want to answer: nothing is recorded.
STOPPED = "stopped"
MAX_WORDS = 1000
_NOT_SOLVED = re.compile(
    r"未解决|没解决|没有解决|没能解决|不解决|没处理|没有处理|没人管|没修好|还没|依然|仍然|还是老样子"
)
_SOLVED = re.compile(r"已解决|已经解决|解决了|搞定|修好了|处理好了|弄好了|好了|可以了|没问题")
_UNSATISFIED = re.compile(
    r"不满意|不太满意|唔满意|唔系好满意|唔系几满意|很差|太差|好差|差劲|差评|(?<!不)差(?!不多)|不好|不太好|不行|不太行|失望|很烂"
)
_BASICALLY = re.compile(r"基本|还行|还可以|一般|凑合|马马虎虎|过得去|还好|差不多|麻麻")
_SATISFIED = re.compile(r"满意|很好|非常好|挺好|不错|好评|点赞|满分")
# A score out of five (5分, 打五星): 4-5 satisfied, 3 basically, 1-2 not. A bare number is the button's.
_SCORE = re.compile(r"^(?:打|给|评)?([1-5一二两三四五])(?:分|星|颗星)")
_SCORES = {"1": UNSATISFIED, "2": UNSATISFIED, "3": BASICALLY_SATISFIED, "4": SATISFIED, "5": SATISFIED}
_CN_DIGITS = {"一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5"}
NO_WORDS = re.compile(r"^(?:没有了?|没了|没什么|不用了?|算了|就这样|就这些)[吧啊了。.！!]*$")


def _said(text: str) -> str:
    """``text`` without spaces and punctuation, as the answers are matched."""
    return re.sub(r"[\s，,。.！!？?、]+", "", text)


def parse_rating(text: str) -> str | None:
    """满意 / 基本满意 / 不满意 from a button, a number (1-3, 第二个), a score (5分) or words; None otherwise.

    Text that starts with "/" (a typed command; channels make it "／") is never an answer.
    """
    said = _said(text)
    if not said or text.lstrip()[:1] in ("/", "／"):
        return None
    score = _SCORE.match(said)
    if score is not None:
        return _SCORES[_CN_DIGITS.get(score.group(1), score.group(1))]
    picked = pick_choice(said, list(RATINGS), loose=False)
    if picked is not None:
        return RATINGS[picked]
    for pattern, rating in ((_UNSATISFIED, UNSATISFIED), (_BASICALLY, BASICALLY_SATISFIED), (_SATISFIED, SATISFIED)):
        if pattern.search(said):
            return rating
    return None


def parse_solved(text: str, intent: str) -> bool | None:
    """Whether the citizen says the problem was solved: button, number (1 solved, 2 not), words or yes/no."""
    said = _said(text)
    picked = pick_choice(said, list(SOLVED_OPTIONS), loose=False) if said else None
    if picked is not None:
        return picked == 0
    if _NOT_SOLVED.search(said):
        return False
    if _SOLVED.search(said):
        return True
    if intent in ("affirm", "deny"):
        return intent == "affirm"
    return None


def entity_value(tracker: Tracker, entity: str) -> str | None:
    """The value of the first entity of this type in the latest message."""
    for found in tracker.latest_message.get("entities") or []:
        if found.get("entity") == entity and found.get("value") is not None:
            return str(found["value"])
    return None


def conversation_citizen_id(tracker: Tracker) -> int | None:
    """The citizen a channel last verified in this conversation (a triggered event carries no metadata)."""
    messages = [tracker.latest_message, *(e for e in reversed(tracker.events) if e.get("event") == "user")]
    for message in messages:
        value = (message.get("metadata") or {}).get("citizen_id")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


class ActionStartFollowUp(Action):
    """Starts the 回访 of a closed order, only in the conversation of the citizen who filed it."""

    def name(self) -> str:
        """The action's name."""
        return "action_start_follow_up"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Check the order (closed, this citizen's) and keep it and its reply for the questions."""
        reset: list[EventType] = [SlotSet(slot, None) for slot in FOLLOW_UP_SLOTS]
        if not is_external(tracker):  # somebody typed the event's name
            dispatcher.utter_message(response="utter_ask_rephrase")
            return reset
        try:
            number = parse_order_number(entity_value(tracker, "order_number") or "")
            order = await find_order(hotline().database, number)
        except InvalidOrderNumber:
            logger.warning("回访 without a valid order number in %s", tracker.sender_id)
            return reset
        except BACKEND_ERRORS as error:
            logger.error("回访 of an order not started: %s", type(error).__name__)
            return reset
        if order is None or order.status != CLOSED:
            logger.warning("回访 of %s not started: %s", number, "unknown" if order is None else order.status)
            return reset
        # The citizen who filed it, or the one whose number was given for it (its SMS thread: the answer is theirs).
        citizen_id = conversation_citizen_id(tracker)
        try:
            theirs = citizen_id is not None and await is_order_of_citizen(hotline().database, number, citizen_id)
        except BACKEND_ERRORS as error:
            logger.error("回访 of an order not started: %s", type(error).__name__)
            return reset
        if not theirs:
            logger.warning("回访 of %s not started: not the conversation of the citizen who filed it", number)
            return reset
        return [*reset, SlotSet("follow_up_order", number), SlotSet("follow_up_reply", order.reply or "")]


def next_follow_up_slot(slots: dict[str, Any]) -> str | None:
    """The next question of the 回访, or None when it is answered, stopped or not for this conversation."""
    if not slots.get("follow_up_order") or slots.get("follow_up_satisfaction") == STOPPED:
        return None
    if slots.get("follow_up_solved") is None:
        return "follow_up_solved"
    if slots.get("follow_up_satisfaction") is None:
        return "follow_up_satisfaction"
    reopens = slots.get("follow_up_solved") is False or slots.get("follow_up_satisfaction") == UNSATISFIED
    return "follow_up_words" if reopens and slots.get("follow_up_words") is None else None


class ValidateFollowUpForm(Action):
    """Reads the answers of the 回访: solved or not, satisfaction, and what is still wrong."""

    def name(self) -> str:
        """The action's name."""
        return "validate_follow_up_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Read the answer to the question asked (none at the start, or after a digression) and ask the next."""
        updates: dict[str, Any] = {}
        if not is_activation(tracker, FOLLOW_UP_FORM) and reads_answer(tracker):
            read = self.read_answer(dispatcher, tracker)
            if read is None:
                return []
            updates = read
        slots = {**tracker.slots, **updates}
        events: list[EventType] = [SlotSet(slot, value) for slot, value in updates.items()]
        return [*events, SlotSet("requested_slot", next_follow_up_slot(slots))]

    def read_answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any] | None:
        """The answer to the question asked, or None when the message is something else."""
        text, intent = latest_text(tracker), latest_intent(tracker)
        if is_external(tracker) or not text or intent in HARD_ENDINGS:
            return None
        asked = tracker.get_slot("requested_slot")
        if asked == "follow_up_words":
            nothing_more = intent == "thank" or NO_WORDS.match(text.strip()) is not None
            return {"follow_up_words": "" if nothing_more else text.strip()[:MAX_WORDS]}
        if is_stop(text):
            return {"follow_up_satisfaction": STOPPED}
        if asked == "follow_up_solved":
            solved = parse_solved(text, intent)
            if solved is None:
                if is_digression(tracker):
                    return None
                dispatcher.utter_message(text=messages.SAY_SOLVED)
            return {"follow_up_solved": solved}
        if asked == "follow_up_satisfaction":
            rating = parse_rating(text)
            if rating is None:
                if is_digression(tracker):
                    return None
                dispatcher.utter_message(text=messages.SAY_RATING)
            return {"follow_up_satisfaction": rating}
        return None


class ActionAskFollowUpSolved(Action):
    """Tells the citizen the order was closed and how, and asks whether the problem is solved."""

    def name(self) -> str:
        """The action's name."""
        return "action_ask_follow_up_solved"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """The department's reply the first time; only the question when asked again."""
        number = tracker.get_slot("follow_up_order") or ""
        asked_before = False
        for event in reversed(tracker.events):
            if event.get("event") == "action" and event.get("name") == "action_start_follow_up":
                break
            asked_before = asked_before or event.get("event") == "bot"
        reply = str(tracker.get_slot("follow_up_reply") or "").strip().rstrip("。.")
        if asked_before:
            text = messages.ASK_SOLVED_AGAIN.format(number=number)
        elif reply:
            text = messages.CLOSED_WITH_REPLY_ASK_SOLVED.format(number=number, reply=reply)
        else:
            text = messages.CLOSED_ASK_SOLVED.format(number=number)
        dispatcher.utter_message(text=text, buttons=choice_buttons(SOLVED_OPTIONS, ("yes", "no")))
        return []


class ActionRecordFollowUp(Action):
    """Records the 回访; a problem not solved, or 不满意, goes back to the department with the citizen's words."""

    def name(self) -> str:
        """The action's name."""
        return "action_record_follow_up"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Record the answers and thank the citizen, or say the order was handed back."""
        reset: list[EventType] = [SlotSet(slot, None) for slot in FOLLOW_UP_SLOTS]
        number = tracker.get_slot("follow_up_order")
        solved, satisfaction = tracker.get_slot("follow_up_solved"), tracker.get_slot("follow_up_satisfaction")
        if number and satisfaction == STOPPED:
            dispatcher.utter_message(text=messages.FOLLOW_UP_STOPPED)
            return reset
        if not number or solved is None or satisfaction not in RATINGS:
            return reset
        words = str(tracker.get_slot("follow_up_words") or "")
        try:
            detail = await record_follow_up(hotline().database, number, bool(solved), satisfaction, words, clock.now())
        except BACKEND_ERRORS as error:
            report_backend_failure(dispatcher, error)
            return reset
        except (InvalidTransition, OrderNotFound) as error:
            logger.warning("回访 of %s not recorded: %s", number, type(error).__name__)
            dispatcher.utter_message(text=messages.FOLLOW_UP_ALREADY_DONE.format(number=number))
            return reset
        if detail.state == FOLLOWED_UP:
            dispatcher.utter_message(text=messages.FOLLOW_UP_DONE.format(number=number))
        else:
            dispatcher.utter_message(text=messages.ORDER_REOPENED.format(number=number))
        return reset


class ValidateHandoffRatingForm(Action):
    """Takes the rating of a closed handoff; anything else ends the question and is handled as usual."""

    def name(self) -> str:
        """The action's name."""
        return "validate_handoff_rating_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """At the start, check the handoff is this conversation's; then read the rating, or give up the question."""
        if is_activation(tracker, RATING_FORM):
            handoff_id = await self.handoff_of_conversation(tracker)
            return [
                SlotSet("handoff_rating_id", handoff_id),
                SlotSet("handoff_rating", None),
                SlotSet("requested_slot", "handoff_rating" if handoff_id else None),
            ]
        if not reads_answer(tracker):  # the message was not a rating and has been answered: do not ask again
            return [SlotSet("handoff_rating", None), SlotSet("requested_slot", None)]
        rating = None if is_external(tracker) else parse_rating(latest_text(tracker))
        if rating is None:
            return []
        return [SlotSet("handoff_rating", rating), SlotSet("requested_slot", None)]

    async def handoff_of_conversation(self, tracker: Tracker) -> str | None:
        """The id of the closed handoff the event names, when it is this conversation's."""
        raw = entity_value(tracker, "handoff_id") if is_external(tracker) else None
        if raw is None or not raw.isdigit():
            return None
        try:
            handoff = await get_handoff(hotline().database, int(raw))
        except HandoffNotFound:
            logger.warning("rating asked for unknown handoff %s", raw)
            return None
        except BACKEND_ERRORS as error:
            logger.error("rating of handoff %s not asked: %s", raw, type(error).__name__)
            return None
        if handoff.conversation_id != tracker.sender_id:
            logger.warning("rating of handoff %s not asked: another conversation", raw)
            return None
        return raw


class ActionAskHandoffRating(Action):
    """Asks the citizen to rate the agent's service."""

    def name(self) -> str:
        """The action's name."""
        return "action_ask_handoff_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """满意 / 基本满意 / 不满意, as buttons (a number or the words work too)."""
        dispatcher.utter_message(text=messages.ASK_HANDOFF_RATING, buttons=choice_buttons(RATINGS))
        return []


class ActionRecordHandoffRating(Action):
    """Stores the rating with the handoff and thanks the citizen."""

    def name(self) -> str:
        """The action's name."""
        return "action_record_handoff_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Store it once; a rating that cannot be stored is still thanked for, without a handoff."""
        reset: list[EventType] = [SlotSet("handoff_rating_id", None), SlotSet("handoff_rating", None)]
        handoff_id, rating = tracker.get_slot("handoff_rating_id"), tracker.get_slot("handoff_rating")
        if not handoff_id or rating not in RATINGS:
            return reset
        try:
            stored = await record_rating(hotline().database, int(handoff_id), rating, clock.now())
        except BACKEND_ERRORS as error:
            logger.error("rating of handoff %s not stored: %s", handoff_id, type(error).__name__)
            stored = False
        if not stored:
            logger.warning("rating of handoff %s not stored (not closed, or rated already)", handoff_id)
        dispatcher.utter_message(text=messages.THANKS_FOR_RATING)
        return reset
