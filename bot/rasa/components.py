"""NLU components of our own, registered with Rasa's recipe (config.yml names them by module path)."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.appeals.extraction import REPORTED, explicit_request


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ExplicitRequestClassifier(GraphComponent, IntentClassifier):
    """A citizen who says what they are doing (我要投诉…, 我想反映一下…) makes that report, whatever the
    classifier made of the rest of a long message (a complaint read as out_of_scope, or as nlu_fallback
    because 投诉 and 举报 scored alike).

    ``intents`` maps each kind of report to its intent; a report that names no kind (反映) takes the
    best-ranked of those intents.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Which intent each kind of report is (config.yml sets them)."""
        return {"intents": {}}

    def __init__(self, config: dict[str, Any]) -> None:
        self.intents: dict[str, str] = dict(config["intents"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ExplicitRequestClassifier:
        """The component, from its config."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Set the intent of each message that says which report it makes."""
        for message in messages:
            intent = self.intent_of(message)
            if intent is not None and message.get(INTENT, {}).get(INTENT_NAME_KEY) != intent:
                message.set(INTENT, {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True)
        return messages

    def intent_of(self, message: Message) -> str | None:
        """The report intent the message's words say, or None."""
        kind = explicit_request(message.get(TEXT) or "")
        if kind is None:
            return None
        if kind != REPORTED:
            return self.intents.get(kind)
        ranked = [item.get(INTENT_NAME_KEY) for item in message.get(INTENT_RANKING_KEY) or []]
        reports = set(self.intents.values())
        return next((name for name in ranked if name in reports), None)
