"""Complaints, reports, requests for help and suggestions: the report form and filing the work order."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import (
    BACKEND_ERRORS,
    hotline,
    is_activation,
    latest_intent,
    latest_text,
    message_channel,
    reply_to,
    report_backend_failure,
    verified_citizen_id,
)
from bot.cases import local_now
from bot.work_orders import COMPLAINT, HELP, REPORT, SUGGESTION, UNASSIGNED, NewOrder, file_order

FORM = "report_form"
KINDS = {
    "complain": COMPLAINT,
    "report_violation": REPORT,
    "seek_help": HELP,
    "suggest": SUGGESTION,
}
# A first message with at least this many Chinese characters besides the words that only say
# "I want to complain" is taken as the description; a shorter one gets the question.
DETAILS_IN_FIRST_MESSAGE = 8
# An answer to the question needs at least this many.
DETAILS_WHEN_ASKED = 4
# Longer descriptions are cut here (the channels already refuse texts far longer than this).
MAX_DETAILS = 1000
# Words that name the kind of report or are filler, not part of the description; longest first.
INTENT_WORDS = (
    "我有一个建议",
    "我想提个建议",
    "我要提建议",
    "我有个建议",
    "我要投诉",
    "我想投诉",
    "我要举报",
    "我想举报",
    "我要求助",
    "我想求助",
    "我要反映",
    "我想反映",
    "我要报修",
    "请问",
    "你好",
    "您好",
    "投诉",
    "举报",
    "求助",
    "建议",
    "反映",
    "报修",
    "一下",
    "一个",
    "问题",
    "情况",
    "事情",
    "我要",
    "我想",
    "帮忙",
    "帮我",
    "麻烦",
    "好的",
    "是的",
    "喂",
    "嗯",
)
# What a citizen asked for the details may say instead: a question or small talk that is answered
# before the form resumes or switches. Descriptions often look like these ("我反映的是…" like a progress
# question), so only a sure classification counts; an ending (ENDINGS) always does.
DIGRESSIONS = frozenset({"greet", "thank", "bot_challenge", "ask_progress", "ask_materials"})
DIGRESSION_CONFIDENCE = 0.8
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def is_digression(tracker: Tracker) -> bool:
    """Whether the latest message is surely a digression rather than a description."""
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name") in DIGRESSIONS and float(intent.get("confidence") or 0.0) >= DIGRESSION_CONFIDENCE


def description_length(text: str) -> int:
    """How many Chinese characters of ``text`` describe something, besides intent and filler words."""
    for word in INTENT_WORDS:
        text = text.replace(word, "")
    return len(_CHINESE.findall(text))


class ValidateReportForm(FormValidationAction):
    """Takes the kind of report from the intent and what happened, and where, from the citizen's words."""

    def name(self) -> str:
        """The action's name."""
        return "validate_report_form"

    async def extract_report_kind(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The kind of report: from the intent that starts the form (or answers the question)."""
        kind = KINDS.get(latest_intent(tracker))
        asked = tracker.get_slot("requested_slot") == "report_kind"
        if kind is not None and (is_activation(tracker, FORM) or asked):
            return {"report_kind": kind}
        return {}

    async def validate_report_kind(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep only the kinds the hotline files."""
        return {"report_kind": value if value in KINDS.values() else None}

    async def extract_report_details(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take a first message that already describes the problem, or the answer to the question."""
        text = latest_text(tracker)
        if is_activation(tracker, FORM):
            return {"report_details": text} if description_length(text) >= DETAILS_IN_FIRST_MESSAGE else {}
        answer = reply_to(tracker, "report_details")
        if answer is None or is_digression(tracker):
            return {}
        return {"report_details": answer}

    async def validate_report_details(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Ask again when the answer says too little to act on."""
        text = str(value or "").strip()
        if description_length(text) < DETAILS_WHEN_ASKED:
            dispatcher.utter_message(text="请再具体说说：发生了什么事，在哪个区、哪条路或哪个小区？")
            return {"report_details": None}
        return {"report_details": text[:MAX_DETAILS]}


class ActionFileReport(Action):
    """Files the report as a work order and tells the citizen its number."""

    def name(self) -> str:
        """The action's name."""
        return "action_file_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """File the order (for the verified citizen, if any), say its number and how to follow it up."""
        kind, details = tracker.get_slot("report_kind"), tracker.get_slot("report_details")
        reset: list[EventType] = [SlotSet("report_kind", None), SlotSet("report_details", None)]
        if not kind or not details:
            return reset
        citizen_id = verified_citizen_id(tracker)
        order = NewOrder(
            kind=kind,
            department=UNASSIGNED,
            summary=details,
            sender_id=tracker.sender_id,
            channel=message_channel(tracker),
            citizen_id=citizen_id,
        )
        try:
            number = await file_order(hotline().database, order, local_now())
        except BACKEND_ERRORS as error:
            report_backend_failure(dispatcher, error)
            return reset
        filed = f"已为您登记{kind}，工单号{number}。我们会转交相关部门办理"
        if citizen_id is not None:
            text = f"{filed}，办理结果会通知您。"
        else:
            text = (
                f"{filed}。请记下工单号：当前渠道没有验证您的手机号，办理结果无法通知您，"
                "也不能在这里查询；了解进度请拨打12345热线，报上工单号由人工座席为您查询。"
            )
        dispatcher.utter_message(
            text=text,
            json_message={
                "kind": "work_order",
                "number": number,
                "type": kind,
                "short": f"已为您登记{kind}，工单号{' '.join(number)}。",
                "spoken_number": " ".join(number),
            },
        )
        dispatcher.utter_message(response="utter_anything_else")
        return reset
