"""What the actions share: the hotline, the latest message and how a form reads it, choices as buttons, failures."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.catalog import runtime
from bot.catalog.render import Answer
from bot.citizens.identity import CitizenView, get_citizen
from bot.core.db import DatabaseUnavailable

logger = logging.getLogger(__name__)

# Intents that always interrupt whatever a form asked for.
INTERRUPTIONS = frozenset(
    {
        "greet",
        "goodbye",
        "thank",
        "deny",
        "bot_challenge",
        "request_human",
        "emergency",
        "complain",
        "report_violation",
        "seek_help",
        "suggest",
        "out_of_scope",
    }
)
# Intents that end a form whatever it asked.
ENDINGS = frozenset({"request_human", "emergency", "goodbye", "deny"})
# Endings that rules handle (the form stops and the bot says goodbye, gives 110/119/120 or a person).
# A "no" answers some questions of the forms (the contact, the read-back, 未解决, 不满意).
HARD_ENDINGS = ENDINGS - {"deny"}
# Intents with which a citizen answers the question a form asked.
ANSWERS = frozenset({"inform", "ask_materials", "ask_policy", "affirm", "nlu_fallback"})
# What a citizen asked a question may say instead: a question or small talk that is answered before
# the form resumes or switches. Answers often look like these ("我反映的是…" like a progress question),
# so only a sure classification counts; an ending (ENDINGS) always does.
DIGRESSIONS = frozenset({"greet", "thank", "bot_challenge", "ask_progress", "ask_materials"})
DIGRESSION_CONFIDENCE = 0.8
# After a stop word, a change of mind: 还是/我要/我想 and a request of some length.
_GOES_ON = re.compile(r"还是|我要|我想|改成|帮我")
_HAN = re.compile(r"[\u4e00-\u9fff]")
GOES_ON_CHARS = 8
# Also in Cantonese (算啦，都係唔好登记住: the eighth blind set, read at the offered number as "another number").
_STOP = re.compile(
    r"算了|算啦|算喇|不用了|不要了|不需要了|取消|不报了|不说了|不投诉了|不举报了|不反映了|不登记了|不办了"
    r"|唔好登记|唔使登记|唔登记|唔报(?:喇|啦)|唔搞(?:喇|啦)"
)

# Failures of the backends that the citizen is told about instead of a crash.
BACKEND_ERRORS = (DatabaseUnavailable,)


def hotline() -> runtime.Hotline:
    """The process's hotline (settings, database, catalogue index)."""
    return runtime.current()


def latest_intent(tracker: Tracker) -> str:
    """The intent of the citizen's latest message."""
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


def latest_text(tracker: Tracker) -> str:
    """The text of the citizen's latest message."""
    return str(tracker.latest_message.get("text") or "").strip()


def not_understood_before(tracker: Tracker) -> list[str]:
    """The citizen's messages right before the latest one that were not understood, oldest first."""
    said: list[str] = []
    users = [event for event in reversed(tracker.events) if event.get("event") == "user"][1:]
    for event in users:
        if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback":
            break
        said.append(str(event.get("text") or "").strip())
    return said[::-1]


def has_entity(tracker: Tracker, entity: str) -> bool:
    """Whether the latest message holds an entity of this type."""
    return any(e.get("entity") == entity for e in tracker.latest_message.get("entities") or [])


def is_activation(tracker: Tracker, form: str) -> bool:
    """Whether this turn activates the form.

    Rasa runs the form's validation at activation with the loop already active but no slot
    requested yet; unit tests may also call it before the loop is set.
    """
    active = (tracker.active_loop or {}).get("name")
    return active != form or tracker.get_slot("requested_slot") is None


def is_external(tracker: Tracker) -> bool:
    """Whether the latest message is an event the hotline triggered (回访, a handoff closed)."""
    return bool((tracker.latest_message.get("metadata") or {}).get("is_external"))


def is_digression(tracker: Tracker) -> bool:
    """Whether the latest message is surely a digression rather than an answer."""
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name") in DIGRESSIONS and float(intent.get("confidence") or 0.0) >= DIGRESSION_CONFIDENCE


def is_stop(text: str) -> bool:
    """Whether the citizen gives up what a form asks (算了, 不用了, 取消…).

    Not when a change of mind goes on with a new request ("算了，还是投诉吧，岗顶地铁站的扶梯坏了…").
    """
    match = _STOP.search(text)
    if match is None:
        return False
    rest = text[match.end() :]
    return not (_GOES_ON.search(rest) and len(_HAN.findall(rest)) >= GOES_ON_CHARS)


def reads_answer(tracker: Tracker) -> bool:
    """Whether the form runs on the citizen's latest words, rather than again after another action answered them.

    Rasa validates on a copy of the tracker that ends with the form's own run; when the form rejected
    the message and a rule answered it (a greeting, a question), actions other than the form ran
    since the citizen spoke, and the message must not be read again.
    """
    form = (tracker.active_loop or {}).get("name")
    if tracker.latest_action_name not in (form, "action_listen", None):
        return False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return True
        if event.get("event") == "action_execution_rejected":
            return False
        if event.get("event") == "action" and event.get("name") not in (form, "action_listen"):
            return False
    return True


def bot_custom(event: dict[str, Any]) -> dict[str, Any]:
    """What a bot message of the tracker carried besides its text (its ``custom``: kind, number…); {} for any other
    event."""
    if event.get("event") != "bot":
        return {}
    return (event.get("data") or {}).get("custom") or {}


def slot_before_this_turn(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the citizen's latest message (what its mappings set this turn left out)."""
    before_turn = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            before_turn = True
        elif before_turn and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


def reply_to(tracker: Tracker, slot: str) -> str | None:
    """The citizen's words when the form asked for ``slot`` and they did not end the form."""
    text = latest_text(tracker)
    if not text or tracker.get_slot("requested_slot") != slot or latest_intent(tracker) in ENDINGS:
        return None
    return text


def send_answer(dispatcher: CollectingDispatcher, answer: Answer) -> None:
    """Send a full answer with its spoken form and data for rich channels."""
    dispatcher.utter_message(text=answer.text, json_message={**answer.data, "short": answer.short})


def choice_buttons(options: Sequence[str], answers: Sequence[str | None] = ()) -> list[dict[str, Any]]:
    """Buttons whose payload is the option's own words (never an intent).

    ``answers`` marks, option by option, the one a plain yes (``"yes"``) or no (``"no"``) selects.
    """
    marks = [*answers, *[None] * len(options)]
    return [
        {"title": f"{n}. {option}", "payload": option, **({"answer": mark} if mark else {})}
        for n, (option, mark) in enumerate(zip(options, marks, strict=False), 1)
    ]


def offer_buttons(yes: str, no: str) -> list[dict[str, Any]]:
    """The two buttons of a yes/no offer (督办, a person): they say yes or no, whatever the NLU makes of the words."""
    return [
        {"title": f"1. {yes}", "payload": "/affirm", "answer": "yes"},
        {"title": f"2. {no}", "payload": "/deny", "answer": "no"},
    ]


def verified_citizen_id(tracker: Tracker) -> int | None:
    """The citizen whose phone number the channel verified for this message (caller id, SMS, shared contact)."""
    value = (tracker.latest_message.get("metadata") or {}).get("citizen_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def message_channel(tracker: Tracker) -> str:
    """The channel the latest message came through (sms, voice, telegram, webchat, rest), or ''."""
    value = (tracker.latest_message.get("metadata") or {}).get("channel")
    return value if isinstance(value, str) else ""


async def verified_citizen(tracker: Tracker) -> CitizenView | None:
    """The verified citizen of the latest message, read from the database, if any."""
    citizen_id = verified_citizen_id(tracker)
    return None if citizen_id is None else await get_citizen(hotline().database, citizen_id)


async def current_citizen(tracker: Tracker) -> CitizenView | None:
    """The verified citizen of the latest message, or None (also when the database is down: then a number is asked)."""
    try:
        return await verified_citizen(tracker)
    except BACKEND_ERRORS as error:
        logger.warning("citizen lookup failed: %s", type(error).__name__)
        return None


def has_complained(tracker: Tracker) -> bool:
    """Whether the citizen complained at any point of this conversation."""
    return any(
        (event.get("parse_data") or {}).get("intent", {}).get("name") == "complain"
        for event in tracker.events
        if event.get("event") == "user"
    )


def decline_offer(dispatcher: CollectingDispatcher) -> list[EventType]:
    """Acknowledge a no to what was offered, and drop the offer."""
    dispatcher.utter_message(text=messages.OFFER_DECLINED)
    return [SlotSet("pending_offer", None)]


def request_handoff(dispatcher: CollectingDispatcher, reason: str) -> None:
    """Ask the channel for a person: the chat channels queue the conversation, the phone transfers the call.

    The text is what a channel that cannot do either (the REST channel) shows instead.
    """
    dispatcher.utter_message(text=messages.HUMAN_SERVICE, json_message={"handoff": "requested", "reason": reason})


def report_backend_failure(dispatcher: CollectingDispatcher, error: Exception) -> None:
    """Tell the citizen the backend failed, log it without personal data, and hand over to a person."""
    logger.error("backend failure: %s", type(error).__name__, exc_info=error)
    dispatcher.utter_message(text=messages.BACKEND_DOWN)
    request_handoff(dispatcher, "backend_down")
