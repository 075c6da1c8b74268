"""Fixes to three hot paths of Rasa 3.6, installed when the Rasa server loads our tracker store.

The first two were found with py-spy under bench/turn_latency.py's load, the third with
bench/webhook_ack.py; behaviour is unchanged.
- Rasa parses a message (tokenizer, featurizers, DIET) synchronously on the server's event loop,
  so every webhook waits behind whatever message is being parsed. Parsing now runs on one worker
  thread (one at a time, as before), and the loop stays free to acknowledge webhooks.
- Rasa validates every action server response with ``jsonschema.validate``, which re-checks the
  schema itself against its meta-schema on every call (44% of the server's CPU). The (constant)
  schema is now checked once and its validator kept; invalid responses raise the same error.
- Every stored event is turned back into its class by scanning all subclasses of ``Event``
  (5%). A class once found for a type name is now remembered; unknown names scan as before.
"""

from __future__ import annotations

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

_ORIGINAL = RemoteAction._validate_action_result
_ORIGINAL_RESOLVE = Event.resolve_by_type
_ORIGINAL_PARSE = MessageProcessor._parse_message_with_graph
# One thread: the NLU graph's components are used by one message at a time, as in stock Rasa.
_PARSER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu-parse")


def install() -> None:
    """Install both fixes (once)."""
    if RemoteAction._validate_action_result is not _ORIGINAL:
        return
    _validate_with_checked_schema()
    _remember_event_classes()
    _parse_off_the_event_loop()


def _parse_off_the_event_loop() -> None:
    # The parsing thread holds the GIL for whole switch intervals; a shorter interval lets the
    # event loop (and aiosqlite's threads) take their turn sooner.
    sys.setswitchinterval(0.001)
    original_parse_message = MessageProcessor.parse_message

    async def parse_message(
        self: MessageProcessor,
        message: UserMessage,
        tracker: DialogueStateTracker | None = None,
        only_output_properties: bool = True,
    ) -> dict[str, Any]:
        if self.http_interpreter:
            return await original_parse_message(self, message, tracker, only_output_properties)
        if tracker is None:
            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        loop = asyncio.get_running_loop()
        parse_data = await loop.run_in_executor(
            _PARSER, _ORIGINAL_PARSE, self, message, tracker, only_output_properties
        )
        self._update_full_retrieval_intent(parse_data)
        self._check_for_unseen_features(parse_data)
        return parse_data

    MessageProcessor.parse_message = parse_message


def _remember_event_classes() -> None:
    found: dict[str, type[Event]] = {}

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        cls = found.get(type_name)
        if cls is None:
            cls = _ORIGINAL_RESOLVE(type_name, default)
            if cls is not None and getattr(cls, "type_name", None) == type_name:
                found[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)


def _validate_with_checked_schema() -> None:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is not None:
            error.message += (
                ". Failed to validate Action server response from API, make sure your response "
                f"from the Action endpoint is valid. For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    RemoteAction._validate_action_result = _validate_action_result


__all__ = ["ValidationError", "install"]
