"""What the actions share: the hotline, the latest message, choices as buttons, failures."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

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
# Intents with which a citizen answers the question a form asked.
ANSWERS = frozenset({"inform", "ask_materials", "ask_policy", "affirm", "nlu_fallback"})

BACKEND_DOWN = "抱歉，系统暂时查询不到相关信息。"
HUMAN_SERVICE = "好的，为您转人工客服。您也可以拨打12345热线按0，由人工座席为您服务。"
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


def reply_to(tracker: Tracker, slot: str) -> str | None:
    """The citizen's words when the form asked for ``slot`` and they did not end the form."""
    text = latest_text(tracker)
    if not text or tracker.get_slot("requested_slot") != slot or latest_intent(tracker) in ENDINGS:
        return None
    return text


def send_answer(dispatcher: CollectingDispatcher, answer: Answer) -> None:
    """Send a full answer with its spoken form and data for rich channels."""
    dispatcher.utter_message(text=answer.text, json_message={**answer.data, "short": answer.short})


def choice_buttons(options: list[str]) -> list[dict[str, Any]]:
    """Buttons whose payload is the option's own words (never an intent)."""
    return [{"title": f"{n}. {option}", "payload": option} for n, option in enumerate(options, 1)]


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


def has_complained(tracker: Tracker) -> bool:
    """Whether the citizen complained at any point of this conversation."""
    return any(
        (event.get("parse_data") or {}).get("intent", {}).get("name") == "complain"
        for event in tracker.events
        if event.get("event") == "user"
    )


def request_handoff(dispatcher: CollectingDispatcher, reason: str) -> None:
    """Ask the channel for a person: the chat channels queue the conversation, the phone transfers the call.

    The text is what a channel that cannot do either (the REST channel) shows instead.
    """
    dispatcher.utter_message(text=HUMAN_SERVICE, json_message={"handoff": "requested", "reason": reason})


def report_backend_failure(dispatcher: CollectingDispatcher, error: Exception) -> None:
    """Tell the citizen the backend failed, log it without personal data, and hand over to a person."""
    logger.error("backend failure: %s", type(error).__name__, exc_info=error)
    dispatcher.utter_message(text=BACKEND_DOWN)
    request_handoff(dispatcher, "backend_down")
