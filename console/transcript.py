"""What the console shows of a conversation: its transcript and the bot's one-line summary for the queue."""

from __future__ import annotations

from typing import Any

from rasa.shared.core.events import BotUttered, ConversationPaused, ConversationResumed, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core import clock
from bot.core.personal_data import mask_text
from bot.privacy.conversation import revealed_text
from channels.pages import china_time

# How the queue names what the citizen last wanted (intents not listed are shown by their name).
INTENT_LABELS = {
    "ask_materials": "问办事材料",
    "ask_office": "问办理地点",
    "ask_progress": "查办件进度",
    "complain": "投诉",
    "report_violation": "举报",
    "seek_help": "求助",
    "suggest": "建议",
    "ask_policy": "问政策",
    "emergency": "紧急情况",
    "nlu_fallback": "未听懂",
    "out_of_scope": "超出范围",
}
# Intents that say nothing about what the conversation is about.
_QUIET_INTENTS = frozenset({"request_human", "affirm", "deny", "greet", "thank", "inform", "goodbye"})


def transcript_of(tracker: DialogueStateTracker, reveal: bool = False, limit: int = 300) -> list[dict[str, Any]]:
    """What the citizen, the bot and the agents said, oldest first; numbers masked unless revealed.

    The stored events hold masked texts: a revealed transcript shows the citizen's words as they were
    said, unsealed from the event (``bot.privacy.conversation``).
    """
    entries: list[dict[str, Any]] = []
    for event in tracker.events:
        entry = _transcript_entry(event)
        if reveal and entry is not None and isinstance(event, UserUttered):
            entry["text"] = revealed_text(entry["text"], event.metadata)
        if entry is None:
            continue
        if not reveal and entry.get("text"):
            entry["text"] = mask_text(entry["text"])
        entries.append(entry)
    return entries[-limit:]


def summary_of(tracker: DialogueStateTracker | None, latest_text: str = "") -> dict[str, Any]:
    """The bot's one-line summary of the conversation: last intent, service, case, order, district, last words."""
    summary: dict[str, Any] = {}
    if tracker is not None:
        intents = [
            str((e.intent or {}).get("name"))
            for e in tracker.events
            if isinstance(e, UserUttered) and (e.intent or {}).get("name") not in _QUIET_INTENTS
        ]
        if intents:
            summary["intent"] = INTENT_LABELS.get(intents[-1], intents[-1])
        for slot, key in (
            ("service", "service"),
            ("case_number", "case"),
            ("order_number", "order"),
            ("district", "district"),
        ):
            value = tracker.get_slot(slot) if slot in tracker.slots else None
            if value:
                summary[key] = str(value)
        said = [e.text for e in tracker.events if isinstance(e, UserUttered) and e.text and not e.text.startswith("/")]
    else:
        said = [latest_text] if latest_text else []
    parts = [summary.get(k) for k in ("intent", "service", "case", "order", "district")]
    last = mask_text(said[-1])[:40] if said else ""
    summary["line"] = " · ".join([p for p in parts if p] + ([f"“{last}”"] if last else []))
    return summary


def _transcript_entry(event: Event) -> dict[str, Any] | None:
    """One event of the tracker as a line of the transcript (None for the bot's inner workings)."""
    at = china_time(clock.from_timestamp(event.timestamp))
    if isinstance(event, UserUttered):
        if not event.text or event.text.startswith("/"):
            return None
        return {"role": "citizen", "text": event.text, "at": at, "agent": None}
    if isinstance(event, BotUttered):
        agent = (event.metadata or {}).get("agent")
        if not event.text:
            return None
        return {"role": "agent" if agent else "bot", "text": event.text, "at": at, "agent": agent}
    if isinstance(event, ConversationPaused):
        return {"role": "system", "text": "转人工：智能助手暂停", "at": at, "agent": None}
    if isinstance(event, ConversationResumed):
        return {"role": "system", "text": "智能助手恢复", "at": at, "agent": None}
    return None
