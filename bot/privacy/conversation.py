"""What a conversation keeps of phone and ID numbers: masked in what is stored, sealed where the dialogue needs them.

A conversation's events are kept by Rasa's tracker store. Before an event is stored
(``protect_event``), every phone and ID number in it is masked (``138****5678``): the citizen's
text, what the NLU made of it (its entities), the bot's texts and buttons, slot values. Two things
are kept whole, encrypted (*sealed*, ``bot.core.encryption.seal``), because they are read back:

- the citizen's own words, beside the masked text in the event's metadata (``SEALED_TEXT``), for
  the agent who reveals the transcript with a reason (``revealed_text``);
- a slot value that holds a number (the report's contact number, a description that quotes one):
  the action server seals it before Rasa sees it (``seal_slot_events``) and unseals the tracker it
  is sent (``unseal_tracker``), so that the actions work with clear values during a turn and the
  order filed later gets the number itself.

During a turn the latest message is in memory in clear; what is stored never is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.encryption import is_sealed, reseal, seal, unseal
from bot.core.personal_data import mask_text

# The key, in a user event's metadata, of the citizen's sealed words (only when masking changed them).
SEALED_TEXT = "sealed_text"
# Keys whose values are never personal data, nor masked (a message id is hex and may hold a run of digits).
_UNTOUCHED_KEYS = frozenset({"message_id", "event", "timestamp", SEALED_TEXT})


def masked(value: Any) -> Any:
    """Every string in a JSON value with its phone and ID numbers masked; sealed values are kept as they are."""
    if isinstance(value, str):
        return value if is_sealed(value) else mask_text(value)
    if isinstance(value, list):
        return [masked(item) for item in value]
    if isinstance(value, dict):
        return {key: (item if key in _UNTOUCHED_KEYS else masked(item)) for key, item in value.items()}
    return value


def protect_event(data: dict[str, Any]) -> dict[str, Any]:
    """A stored event's dict with every number masked; the citizen's words sealed beside the masked text."""
    protected: dict[str, Any] = masked(data)
    text = data.get("text")
    if data.get("event") == "user" and isinstance(text, str) and protected.get("text") != text:
        protected["metadata"] = {**(protected.get("metadata") or {}), SEALED_TEXT: seal(text)}
    return protected


def revealed_text(text: str, metadata: dict[str, Any] | None) -> str:
    """The citizen's words as they said them, when a stored event sealed them; ``text`` otherwise."""
    sealed = (metadata or {}).get(SEALED_TEXT)
    return str(unseal(sealed)) if is_sealed(sealed) else text


def _sealed_if_needed(value: Any) -> Any:
    """A slot value with a phone or ID number in it, sealed; any other value as it is."""
    if isinstance(value, str) and not is_sealed(value) and mask_text(value) != value:
        return seal(value)
    if isinstance(value, list):
        return [_sealed_if_needed(item) for item in value]
    return value


def _unsealed(value: Any) -> Any:
    if isinstance(value, list):
        return [_unsealed(item) for item in value]
    return unseal(value)


def seal_slot_events(events: list[dict[str, Any]]) -> None:
    """Seal, in place, the slot values of an action's events that hold a phone or ID number."""
    for event in events:
        if event.get("event") == "slot" and "value" in event:
            event["value"] = _sealed_if_needed(event["value"])


def unseal_tracker(tracker: dict[str, Any]) -> None:
    """Unseal, in place, the slot values of a tracker as the action server is sent it (its slots and slot events)."""
    slots = tracker.get("slots")
    if isinstance(slots, dict):
        for name, value in slots.items():
            slots[name] = _unsealed(value)
    for event in tracker.get("events") or []:
        if isinstance(event, dict) and event.get("event") == "slot" and "value" in event:
            event["value"] = _unsealed(event["value"])


def resealed(value: Any) -> tuple[Any, int]:
    """A stored event's JSON with every sealed value encrypted again with the newest key; how many were."""
    count = 0

    def walk(item: Any, change: Callable[[str], str]) -> Any:
        nonlocal count
        if is_sealed(item):
            count += 1
            return change(item)
        if isinstance(item, list):
            return [walk(part, change) for part in item]
        if isinstance(item, dict):
            return {key: walk(part, change) for key, part in item.items()}
        return item

    return walk(value, reseal), count
