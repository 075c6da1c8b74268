"""The fixed validation of action server responses behaves exactly like Rasa's own."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.rasa import patches as rasa_patches

VALID = {"events": [{"event": "slot", "name": "service", "value": "护照"}], "responses": [{"text": "好的"}]}
INVALID = {"events": [{"event": "slot", "name": 5}], "responses": "not a list"}


@pytest.mark.parametrize("patched", [False, True])
def test_valid_and_invalid_responses(monkeypatch: pytest.MonkeyPatch, patched: bool) -> None:
    monkeypatch.setattr(RemoteAction, "_validate_action_result", rasa_patches._ORIGINAL)
    if patched:
        rasa_patches.install()
        assert RemoteAction._validate_action_result is not rasa_patches._ORIGINAL
    action = RemoteAction("action_x", None)
    assert action._validate_action_result(VALID) is True
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(INVALID)


def test_install_is_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RemoteAction, "_validate_action_result", rasa_patches._ORIGINAL)
    rasa_patches.install()
    first = RemoteAction._validate_action_result
    rasa_patches.install()
    assert RemoteAction._validate_action_result is first
