"""NLU components of our own, registered with Rasa's recipe (config.yml names them by module path)."""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.appeals.extraction import (
    REPORTED,
    asks_about_supervision,
    asks_for_supervision,
    corrects_a_field,
    explicit_request,
    gives_this_number,
    means_this_number,
    other_kind,
    states_a_problem,
    term_asked,
    thanks_with_praise,
)
from bot.cases.records import names_a_case_number, names_part_of_a_case_number
from bot.catalog.wording import (
    asked_only,
    asks_about_a_proxy,
    asks_how_long,
    asks_what_it_takes,
    asks_what_to_bring,
    puts_off_progress,
    says_a_loss,
    wants_to_do,
)
from bot.core.corrections import corrects_a_number, said_after_correction
from bot.core.numerals import digit_runs
from bot.handoff.records import asks_for_a_person
from bot.safety.danger import assess, no_danger_now


def names_a_case(message: Message) -> bool:
    """Whether the entity extractor found a case number in the message."""
    return any(entity.get("entity") == "case_number" for entity in message.get(ENTITIES) or [])


def names_a_service(message: Message) -> bool:
    """Whether the entity extractor found a catalogue service in the message."""
    return any(entity.get("entity") == "service" for entity in message.get(ENTITIES) or [])


class _IntentByWords(GraphComponent, IntentClassifier):
    """An intent classifier after the trained ones that sets the intent some words make certain (nothing to train)."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> _IntentByWords:
        """The component, from its config."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Set the intent of each message whose words make it certain."""
        for message in messages:
            intent = self.intent_of(message)
            if intent is not None and message.get(INTENT, {}).get(INTENT_NAME_KEY) != intent:
                message.set(INTENT, {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True)
        return messages

    @abstractmethod
    def intent_of(self, message: Message) -> str | None:
        """The intent the message's words make certain, or None (the classifiers' intent stands)."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ExplicitRequestClassifier(_IntentByWords):
    """A citizen who says what they are doing (我要投诉…, 我想反映一下…) makes that report, whatever the
    classifier made of the rest of a long message (a complaint read as out_of_scope, or as nlu_fallback
    because 投诉 and 举报 scored alike). So does one who tells of a problem at a place for some time
    (我们那栋楼的楼梯灯坏了半个多月了) when it was read as ``unstated`` (information, nothing asked).

    ``intents`` maps each kind of report to its intent; a report that names no kind (反映) takes the
    best-ranked of those intents.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Which intent each kind of report is, and what a told problem may have been read as (config.yml)."""
        return {"intents": {}, "unstated": []}

    def __init__(self, config: dict[str, Any]) -> None:
        self.intents: dict[str, str] = dict(config["intents"])
        self.unstated = frozenset(config["unstated"])

    def intent_of(self, message: Message) -> str | None:
        """The report intent the message's words say, or None."""
        text = message.get(TEXT) or ""
        if message.get(INTENT, {}).get(INTENT_NAME_KEY) == "request_human" and asks_for_a_person(text):
            return None  # 给我转人工 我有事要投诉: a person is asked for first (the fourth blind set)
        kind = explicit_request(text) or other_kind(text, None)  # 算了，还是投诉吧，…: the report it becomes
        unstated = message.get(INTENT, {}).get(INTENT_NAME_KEY) in self.unstated
        if kind is None and unstated and states_a_problem(text) and not names_a_case_number(text):
            kind = REPORTED  # not a case told with its number (…号码是20261001000777，说好十月十五号前办完…)
        if kind is None:
            return None
        if kind != REPORTED:
            return self.intents.get(kind)
        ranked = [item.get(INTENT_NAME_KEY) for item in message.get(INTENT_RANKING_KEY) or []]
        reports = set(self.intents.values())
        return next((name for name in ranked if name in reports), None)


class _ReplacingIntent(_IntentByWords):
    """Sets ``intent`` when the words say it and the classifiers read the message as one of ``replaces``
    (config.yml sets both); a message read as anything else keeps its intent."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The intent the words make certain, and the intents it replaces."""
        return {"intent": "", "replaces": []}

    def __init__(self, config: dict[str, Any]) -> None:
        self.intent = str(config["intent"])
        self.replaces = frozenset(config["replaces"])

    def intent_of(self, message: Message) -> str | None:
        """``intent`` when the message was read as a replaced intent and its words say it, else None."""
        classified = message.get(INTENT, {}).get(INTENT_NAME_KEY)
        return self.intent if classified in self.replaces and self.says_it(message) else None

    @abstractmethod
    def says_it(self, message: Message) -> bool:
        """Whether the message's words make ``intent`` certain."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CorrectionClassifier(_ReplacingIntent):
    """A citizen who corrects a number they gave ("啊不好意思，我记错了，是5678") gives information, whatever
    the classifier made of the apology or the 不对 (a goodbye ended the form that had asked for the number).

    ``intent`` is the intent of a message that gives information; only a message classified as one of
    ``replaces`` (what an apology or a 不对 sounds like) is changed: a request that carries a correction
    (不对，我要查的是2026…的进度) stays the request it is.
    """

    def says_it(self, message: Message) -> bool:
        """Whether the message corrects a number, or names a service (or district) after its correction."""
        text = message.get(TEXT) or ""
        # 不对，我说错了，我是要办港澳通行证: the service (or district) named after the correction.
        corrected = said_after_correction(text)
        named = any(text[e["start"] : e["end"]] in corrected for e in message.get(ENTITIES) or [] if "start" in e)
        # 地址说错了，不是大石街，是钟村街汉溪大道那家，对不起: a field of the report corrected, its apology no goodbye.
        return corrects_a_number(text) or bool(corrected and named) or corrects_a_field(text)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class PersonRequestClassifier(_ReplacingIntent):
    """A citizen who asks for a person (你叫个人来跟我讲吧, 转人工) is put through, whatever the classifier made
    of the rest (an elderly caller's "你讲的我听不明白啊" read as out of scope).

    ``intent`` is the intent of asking for a person; only a message classified as one of ``replaces`` is
    changed: a complaint about the staff (投诉你们的工作人员) stays a complaint.
    """

    def says_it(self, message: Message) -> bool:
        """Whether the words ask for a person."""
        return asks_for_a_person(message.get(TEXT) or "")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LossClassifier(_ReplacingIntent):
    """A citizen who names a document and says it is lost (结婚证找不到了, 身份证不知道丢在哪里了) asks what
    replacing it takes, whatever the classifier made of it (a fallback, or 在哪里 read as asking for the office).

    ``intent`` is the intent of asking for materials; only a message classified as one of ``replaces`` is
    changed, and only when it names a service and asks nowhere where to go (身份证丢了去哪里补 stays a
    question about the office).
    """

    def says_it(self, message: Message) -> bool:
        """Whether the message names a service and says it was lost."""
        return names_a_service(message) and says_a_loss(message.get(TEXT) or "")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class MaterialsQuestionClassifier(_ReplacingIntent):
    """A citizen who names a service and asks what to bring (办退休要准备些什么东西), or corrects the service named
    (打错了，不是…，是离婚登记), asks for its materials, whatever the classifier made of a long story around it (a
    goodbye, for "免得白跑一趟").

    ``intent`` is the intent of asking for materials; only a message classified as one of ``replaces`` and
    naming a service is changed.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The intent, the intents it replaces, and the reports a correction may take back (config.yml)."""
        return {"intent": "", "replaces": [], "retracted": []}

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.retracted = frozenset(config.get("retracted", ()))

    def intent_of(self, message: Message) -> str | None:
        """``intent`` for a replaced intent that names a service and asks what to bring, or for a report taken back
        at once for such a question (我想投诉 唔系唔系 我想问下办居住证要咩嘢: the seventh blind set's test half), or
        said in anger by one who only wants to ask (…冇人听！！我就想问…要咩资料: the eighth blind set). An
        emergency only when the safety check, which runs first on every channel, hears no danger (救命，这个个税年度
        汇算太复杂了…我要准备些什么: the eighth blind set)."""
        classified = message.get(INTENT, {}).get(INTENT_NAME_KEY)
        if classified in self.retracted:
            text = message.get(TEXT) or ""
            if names_a_service(message) and wants_to_do(text) and explicit_request(text) is None:
                # 我同我老伴想去登记结婚 我哋两个都系丧偶嘅 (the tenth blind set: read as a complaint, the district
                # asked): a service planned, nothing wrong told.
                return None if states_a_problem(text) else self.intent
            # Taken back for a question about a named service (唔系唔系 我想问下办居住证要咩嘢), or a question said in
            # anger by one who only wants to ask and asks for no report (the service is then looked for, as said).
            taken_back = said_after_correction(text)
            only_asked = asked_only(text) if explicit_request(text) is None else ""
            if taken_back:
                asked = asks_what_to_bring(taken_back) and explicit_request(taken_back) is None
                return self.intent if asked and names_a_service(message) else None
            return self.intent if only_asked and asks_what_to_bring(only_asked) else None
        if classified == "emergency" and assess(message.get(TEXT) or "") is not None:
            return None  # danger heard by the safety check stays an emergency, whatever is asked besides
        text = message.get(TEXT) or ""
        if classified in ("request_human", "ask_progress"):
            # Only a service named and what to bring or how to do it asked: 转人工 我想问护照要带咩 asks for a person
            # first, a number given with it asks where the case stands, and 我个港澳通行证几时可以攞 asks about the
            # citizen's own application, not how long the service takes.
            person = classified == "request_human" and asks_for_a_person(text)
            case = classified == "ask_progress" and (names_a_case(message) or bool(digit_runs(text, 6)))
            # The progress check put off for a question of what to bring (算啦进度唔查住 我想问下…要办啲咩证: the tenth
            # blind set asked for the case number), whatever service it names.
            put_off = classified == "ask_progress" and puts_off_progress(text) and asks_what_it_takes(text)
            named = names_a_service(message) and asks_what_it_takes(text)
            return self.intent if (named or put_off) and not (person or case) else None
        return super().intent_of(message)

    def says_it(self, message: Message) -> bool:
        """Whether the message names a service and asks what to bring, or corrects the service it asked about
        (打错了，不是结婚，是离婚登记: the eighth blind set, read as a goodbye); or asks how long a service takes, or
        whether someone else may go, named or not (the service form answers for the one discussed)."""
        text = message.get(TEXT) or ""
        if asks_how_long(text) or asks_about_a_proxy(text):  # 几耐有得攞, 可唔可以叫我老婆帮我去开 (the eighth set)
            return True  # about the service discussed
        # 个针簿点搞, how it is done, too (the ninth blind set, read as a yes).
        # …or a service the citizen plans to do (咁问返正经嘢…想同佢办张睇病用嘅社保卡: the tenth set, read as a yes).
        planned = asks_what_it_takes(text) or wants_to_do(text)
        return names_a_service(message) and (planned or bool(said_after_correction(text)))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CaseNumberClassifier(_ReplacingIntent):
    """A citizen who gives a case number asks where it stands, whatever the classifier made of the story around
    it (a wife asking for her husband's passport, read as a goodbye: the fifth blind set).

    ``intent`` is the intent of asking for progress; only a message classified as one of ``replaces`` (closings,
    greetings, fallbacks) and holding a case number is changed: an answer, a yes or a report keeps its intent. A
    number's first part said with the name of a case number (受理号, 办件编号) also changes one of ``named``
    (information: 我嘅受理号系20261120 was asked which service, the eighth blind set); the form then asks for the rest.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The intent, the intents it replaces, and those it replaces when the number is said with its name."""
        return {"intent": "", "replaces": [], "named": []}

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.named = frozenset(config.get("named", ()))

    def intent_of(self, message: Message) -> str | None:
        """``intent`` for a replaced intent with a case number, or a ``named`` one with the first part of one said as
        one (a whole number given as information keeps its intent: the rules take it as a progress question)."""
        classified = message.get(INTENT, {}).get(INTENT_NAME_KEY)
        if classified in self.named and names_part_of_a_case_number(message.get(TEXT) or ""):
            return self.intent
        return super().intent_of(message)

    def says_it(self, message: Message) -> bool:
        """Whether the entity extractor found a case number in the message."""
        return names_a_case(message)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class TermQuestionClassifier(_ReplacingIntent):
    """A citizen who asks what one of our words means (督办是什么意思啊 我听不懂, 办结是什么意思，是可以去拿了吗) asks
    about what was just said, not something out of scope or a new lookup: the fallback, which knows the pending offer,
    explains the word and keeps the offer (the fifth and sixth blind sets). A message with a case number is looked
    up first.

    ``intent`` is the fallback intent; only a message classified as one of ``replaces`` is changed.
    """

    def says_it(self, message: Message) -> bool:
        """Whether the words ask about 督办 itself or what one of our words means."""
        text = message.get(TEXT) or ""
        return not names_a_case(message) and (asks_about_supervision(text) or term_asked(text) is not None)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SupervisionRequestClassifier(_ReplacingIntent):
    """A citizen who asks for 督办 in words (想了想还是督办吧, 要督办。还有…) says yes to it, whatever the classifier
    made of the rest (a complaint about the delay: the fifth blind set); the yes files the 督办 offered earlier in the
    conversation, or asks for the case. A message with a case number is looked up first (the lookup offers 督办).

    ``intent`` is the yes; only a message classified as one of ``replaces`` is changed.
    """

    def says_it(self, message: Message) -> bool:
        """Whether the words ask for 督办 and name no case to look up."""
        return not names_a_case(message) and asks_for_supervision(message.get(TEXT) or "")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class PraiseClassifier(_ReplacingIntent):
    """A citizen who thanks and praises the service, asking nothing (你哋服务真係几好，上次帮我跟进嗰单好快有人嚟
    处理，多谢晒), thanks, whatever the classifier made of the story (a progress question: the eighth blind set).

    ``intent`` is the thanks; only a message classified as one of ``replaces`` and naming no case is changed.
    """

    def says_it(self, message: Message) -> bool:
        """Whether the words thank and praise, ask nothing and name no case."""
        return not names_a_case(message) and thanks_with_praise(message.get(TEXT) or "")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NoDangerNowClassifier(_IntentByWords):
    """A problem that keeps coming back (这半年经常有人晚上拉几车垃圾过来直接烧) or a danger that may happen (飞线充电…
    万一着火整栋楼都跑不了), read by the classifier as an emergency although the safety check, which runs first on
    every channel, hears no danger in it and nothing said to happen now, is a report: the best-ranked of ``intents``
    (the sixth and seventh blind sets: handed to a person, no order filed). Danger now stays an emergency, whatever
    else the message says.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The report intents (config.yml)."""
        return {"intents": []}

    def __init__(self, config: dict[str, Any]) -> None:
        self.intents: list[str] = list(config["intents"])

    def intent_of(self, message: Message) -> str | None:
        """The best-ranked report intent for a recurring problem or a risk read as an emergency, else None."""
        if message.get(INTENT, {}).get(INTENT_NAME_KEY) != "emergency":
            return None
        if not no_danger_now(message.get(TEXT) or ""):
            return None
        ranked = [item.get(INTENT_NAME_KEY) for item in message.get(INTENT_RANKING_KEY) or []]
        return next((name for name in ranked if name in self.intents), self.intents[0])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ContactAnswerClassifier(_ReplacingIntent):
    """A citizen who says to use the number the channel knows (算了还是用这个号码吧，我没别的号; 还是留个电话吧…就用
    我现在打的这个号) gives information, whatever the classifier made of the 算了 (a goodbye) or the 回复 (a progress
    question): the sixth blind set's test half ended two reports there.

    ``intent`` is the intent of giving information; only a message classified as one of ``replaces`` is changed,
    a progress question only when it says to leave or use the number and names no case.
    """

    def says_it(self, message: Message) -> bool:
        """Whether the words give the number the channel knows as the contact."""
        text = message.get(TEXT) or ""
        if not (means_this_number(text) or gives_this_number(text)):
            return False
        if message.get(INTENT, {}).get(INTENT_NAME_KEY) != "ask_progress":
            return True
        return not names_a_case(message) and _LEAVE_OR_USE_A_NUMBER.search(text) is not None


# Leaving or using a number (留个电话, 就用我现在打的这个号).
_LEAVE_OR_USE_A_NUMBER = re.compile(r"(?:留|用)[^，。,]{0,8}(?:电话|号码|号|手机)")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DigitsGivenClassifier(_ReplacingIntent):
    """A citizen who says digits (the rest of a case number: "零零零幺 五八 就这么多") gives information, whatever
    the classifier made of "就这么多" (a goodbye: the sixth blind set's test half ended the lookup there).

    ``intent`` is the intent of giving information; only a message classified as one of ``replaces`` is changed.
    """

    def says_it(self, message: Message) -> bool:
        """Whether the message says four digits or more."""
        return bool(digit_runs(message.get(TEXT) or "", min_length=4))
