"""A fix to a hot path of Rasa 3.6, installed when the Rasa server loads our tracker store.

Rasa validates every action server response with ``jsonschema.validate``, which re-checks the
schema itself against its meta-schema on every call: 44% of the Rasa server's CPU under load
(py-spy, bench/turn_latency.py). The fix checks the (constant) schema once and keeps the
validator; responses are validated exactly as before and invalid ones raise the same error.
"""

from __future__ import annotations

from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_ORIGINAL = RemoteAction._validate_action_result


def install() -> None:
    """Make Rasa validate action server responses with a schema checked once."""
    if RemoteAction._validate_action_result is not _ORIGINAL:
        return
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
