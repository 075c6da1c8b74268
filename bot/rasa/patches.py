"""Fixes to two hot paths of Rasa 3.6, installed when the Rasa server loads our tracker store.

Both were found with py-spy under bench/turn_latency.py's load; behaviour is unchanged.
- Rasa validates every action server response with ``jsonschema.validate``, which re-checks the
  schema itself against its meta-schema on every call (44% of the server's CPU). The (constant)
  schema is now checked once and its validator kept; invalid responses raise the same error.
- Every stored event is turned back into its class by scanning all subclasses of ``Event``
  (5%). A class once found for a type name is now remembered; unknown names scan as before.

And one count: a call to the action server that fails (unreachable, refused, timed out, an error
answer, an invalid response) is counted in ``bot.core.metrics.ACTION_ERRORS`` by action; a form's
normal rejection of a message (``ActionExecutionRejection``) is not a failure.
"""

from __future__ import annotations

from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event

from bot.core.metrics import ACTION_ERRORS

_ORIGINAL = RemoteAction._validate_action_result
_ORIGINAL_RESOLVE = Event.resolve_by_type
_ORIGINAL_RUN = RemoteAction.run


def install() -> None:
    """Install both fixes and the count of failed action calls (once)."""
    if RemoteAction._validate_action_result is not _ORIGINAL:
        return
    _validate_with_checked_schema()
    _remember_event_classes()
    _count_action_errors()


def _count_action_errors() -> None:
    async def run(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        try:
            return await _ORIGINAL_RUN(self, *args, **kwargs)
        except ActionExecutionRejection:
            raise
        except Exception:
            ACTION_ERRORS.labels(action=self.name()).inc()
            raise

    RemoteAction.run = run


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
