"""Our NLU components: a citizen who says which report they make makes it; a number corrected is information."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message

from bot.appeals.extraction import explicit_request
from bot.core.corrections import corrects_a_number
from bot.rasa.components import CorrectionClassifier, ExplicitRequestClassifier

INTENTS = {"投诉": "complain", "举报": "report_violation", "求助": "seek_help", "建议": "suggest"}


def classified(text: str, intent: str, ranking: list[tuple[str, float]]) -> str:
    """The intent after the component, given the classifier's intent and ranking."""
    message = Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": ranking[0][1]},
            "intent_ranking": [{"name": name, "confidence": confidence} for name, confidence in ranking],
        }
    )
    ExplicitRequestClassifier({"intents": INTENTS}).process([message])
    return message.get("intent")["name"]


@pytest.mark.parametrize(
    ("text", "intent", "ranking", "expected"),
    [
        # A long complaint the classifier read as out of scope.
        (
            "我要投诉，越秀区某某路的那家快餐店厨房好脏，我亲眼看到老鼠，打我电话13800000000",
            "out_of_scope",
            [("out_of_scope", 0.6), ("complain", 0.4)],
            "complain",
        ),
        # 投诉 and 举报 scored alike: the fallback classifier gave up, the citizen said 投诉.
        (
            "我要投诉 番禺区那个街市的鱼档 缺斤少两",
            "nlu_fallback",
            [("nlu_fallback", 0.45), ("report_violation", 0.5), ("complain", 0.5)],
            "complain",
        ),
        # 反映 names no kind: the best-ranked report intent.
        (
            "你好，我眼睛不好，想反映一下我们这边公交站的站牌字太小",
            "goodbye",
            [("goodbye", 0.5), ("suggest", 0.3), ("complain", 0.2)],
            "suggest",
        ),
        # Not a report being made: left as classified.
        ("我上次投诉的那个有结果了吗", "ask_progress", [("ask_progress", 0.9)], "ask_progress"),
        ("我要投诉的那个工单怎么还没人处理", "ask_progress", [("ask_progress", 0.9)], "ask_progress"),
        ("算了，我不想投诉了", "deny", [("deny", 0.9)], "deny"),
        ("办护照要带什么", "ask_materials", [("ask_materials", 0.99)], "ask_materials"),
    ],
)
def test_a_citizen_who_says_which_report_they_make_makes_it(
    text: str, intent: str, ranking: list[tuple[str, float]], expected: str
) -> None:
    assert classified(text, intent, ranking) == expected


def training_examples() -> list[tuple[str, str]]:
    """(intent, text) of every NLU training example, its entity marks removed."""
    examples = []
    for path in sorted(Path("data/nlu").glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            for line in str(item.get("examples", "")).splitlines():
                text = re.sub(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}", r"\1\2", line.strip()[2:])
                if item.get("intent") and text:
                    examples.append((str(item["intent"]), text))
    return examples


def test_no_training_example_of_another_intent_says_it_makes_a_report() -> None:
    """The NLU's examples: none of another intent is taken for a report, none of a report for another kind."""
    wrong = []
    for intent, text in training_examples():
        kind = explicit_request(text)
        if kind is not None and (intent not in INTENTS.values() or INTENTS.get(kind, intent) != intent):
            wrong.append((intent, text))
    assert wrong == []


def test_the_config_maps_every_kind_to_an_intent_of_the_domain() -> None:
    config = yaml.safe_load(Path("config.yml").read_text(encoding="utf-8"))
    step = next(s for s in config["pipeline"] if s["name"].endswith("ExplicitRequestClassifier"))
    intents = yaml.safe_load(Path("domain.yml").read_text(encoding="utf-8"))["intents"]
    assert step["intents"] == INTENTS
    assert set(INTENTS.values()) <= set(intents)


def corrected(text: str, intent: str) -> str:
    """The intent after the correction component, given the classifier's intent."""
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": 0.8}})
    CorrectionClassifier({"intent": "inform", "replaces": ["goodbye", "deny", "thank"]}).process([message])
    return message.get("intent")["name"]


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        # The apology read as a goodbye ended the progress form that had asked for the digits.
        ("啊不好意思，我记错了，是5678", "goodbye", "inform"),
        ("唔好意思讲错咗，系五六七八", "thank", "inform"),
        ("不对，是6789", "deny", "inform"),
        # No number corrected, or not a correction: left as classified.
        ("不好意思，我说错了", "goodbye", "goodbye"),
        ("不对", "deny", "deny"),
        ("户口登记错了，是1990年的", "deny", "deny"),
        ("谢谢，尾号5678", "thank", "thank"),
        # A request that carries a correction stays the request.
        ("不对不对，我要查的是20261120000158", "ask_progress", "ask_progress"),
    ],
)
def test_a_number_corrected_with_an_apology_is_information(text: str, intent: str, expected: str) -> None:
    assert corrected(text, intent) == expected


def test_no_training_example_of_a_closing_intent_corrects_a_number() -> None:
    """The NLU's examples of the intents the correction replaces: none of them reads as a correction."""
    replaced = {"goodbye", "thank", "greet", "affirm", "deny", "out_of_scope"}
    wrong = [(intent, text) for intent, text in training_examples() if intent in replaced and corrects_a_number(text)]
    assert wrong == []
