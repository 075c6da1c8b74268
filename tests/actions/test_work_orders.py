"""The report form and filing: complaints, reports, requests for help and suggestions become work orders."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot import runtime
from bot.actions.work_orders import ActionFileReport, ValidateReportForm, description_length
from bot.citizens import identify
from bot.models import WorkOrder
from tests.actions.conftest import APPLICANT_PHONE, run_validation, tracker

REQUIRED = ["report_kind", "report_details"]


async def run_form(t: Tracker) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    return await run_validation(ValidateReportForm(), "report_form", REQUIRED, t)


def test_intent_words_do_not_count_as_a_description() -> None:
    assert description_length("我要投诉") == 0
    assert description_length("我想反映一个问题") == 0
    assert description_length("我要投诉我们楼下的餐馆油烟太大") == 11


@pytest.mark.parametrize(
    ("text", "intent", "kind"),
    [
        ("我要投诉我们楼下的餐馆油烟太大", "complain", "投诉"),
        ("我要举报有人在小区里违建，就在三号楼天台", "report_violation", "举报"),
        ("我家门口的路灯坏了好几天了", "seek_help", "求助"),
        ("我建议地铁站多加几个出口方便上下班", "suggest", "建议"),
    ],
)
async def test_a_first_message_that_describes_the_problem_is_taken_as_the_details(
    text: str, intent: str, kind: str
) -> None:
    events, dispatcher = await run_form(tracker(text, intent))
    assert events == [SlotSet("report_kind", kind), SlotSet("report_details", text)]
    assert dispatcher.messages == []


async def test_the_first_message_is_read_as_rasa_activates_the_form() -> None:
    # Rasa calls the validation at activation with the loop already active and no slot requested.
    text = "我要投诉，天河区龙口西路的垃圾站三天没人清运了，臭味很大"
    events, _ = await run_form(tracker(text, "complain", active_loop="report_form"))
    assert events == [SlotSet("report_kind", "投诉"), SlotSet("report_details", text)]


async def test_a_bare_complaint_gets_the_question() -> None:
    events, dispatcher = await run_form(tracker("我要投诉", "complain"))
    assert events == [SlotSet("report_kind", "投诉")]
    assert dispatcher.messages == []


def asked(text: str, intent: str, confidence: float = 0.9) -> Tracker:
    slots = {"report_kind": "举报", "requested_slot": "report_details"}
    return tracker(text, intent, slots=slots, active_loop="report_form", confidence=confidence)


@pytest.mark.parametrize("intent", ["report_violation", "complain", "inform", "out_of_scope", "nlu_fallback"])
async def test_the_answer_to_the_question_is_the_details_whatever_its_intent(intent: str) -> None:
    text = "有人在天河区龙口西路小区天台搭铁皮房"
    events, dispatcher = await run_form(asked(text, intent))
    assert events == [SlotSet("report_details", text)]
    assert dispatcher.messages == []


async def test_an_answer_that_says_too_little_is_asked_again() -> None:
    events, dispatcher = await run_form(asked("我要举报", "report_violation"))
    assert events == [SlotSet("report_details", None)]
    assert dispatcher.messages[0]["text"] == "请再具体说说：发生了什么事，在哪个区、哪条路或哪个小区？"


@pytest.mark.parametrize("intent", ["deny", "goodbye", "request_human", "emergency", "greet", "ask_progress"])
async def test_endings_and_sure_digressions_are_not_details(intent: str) -> None:
    events, _ = await run_form(asked("算了不说了吧我先挂了谢谢你们", intent))
    assert events == []


async def test_a_description_that_only_looks_like_a_progress_question_is_the_details() -> None:
    text = "我反映的是楼下噪音问题，每天晚上都很吵"
    events, _ = await run_form(asked(text, "ask_progress", confidence=0.56))
    assert events == [SlotSet("report_details", text)]
    events, _ = await run_form(asked("我反映的问题处理得怎么样了", "ask_progress", confidence=1.0))
    assert events == []
    events, _ = await run_form(asked("算了不用了", "deny", confidence=0.5))
    assert events == []


async def file(t: Tracker) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await ActionFileReport().run(dispatcher, t, {})
    return events, dispatcher


RESET = [SlotSet("report_kind", None), SlotSet("report_details", None)]
ORDER_NUMBER = re.compile(r"工单号(WO\d{13})。")


async def test_a_verified_citizen_gets_the_number_and_will_be_told_the_result(hotline: runtime.Hotline) -> None:
    citizen = await identify(hotline.database, APPLICANT_PHONE, str(hotline.settings.pii_hash_key), datetime.now())
    slots = {"report_kind": "投诉", "report_details": "楼下餐馆油烟太大"}
    t = tracker("楼下餐馆油烟太大", "complain", slots=slots, metadata={"channel": "sms", "citizen_id": citizen.id})
    events, dispatcher = await file(t)
    assert events == RESET
    text = dispatcher.messages[0]["text"]
    match = ORDER_NUMBER.search(text)
    assert match is not None
    number = match.group(1)
    assert text == f"已为您登记投诉，工单号{number}。我们会转交相关部门办理，办理结果会通知您。"
    assert dispatcher.messages[0]["custom"]["number"] == number
    assert dispatcher.messages[1]["response"] == "utter_anything_else"
    async with hotline.database.session() as session:
        order = (await session.execute(select(WorkOrder))).scalar_one()
    assert (order.number, order.kind, order.department, order.summary) == (number, "投诉", "待分派", "楼下餐馆油烟太大")
    assert (order.channel, order.citizen_id, order.sender_id, order.status) == (
        "sms",
        citizen.id,
        "citizen-1",
        "已受理",
    )


async def test_an_unverified_citizen_is_told_how_to_follow_up(hotline: runtime.Hotline) -> None:
    slots = {"report_kind": "求助", "report_details": "路灯坏了好几天了"}
    events, dispatcher = await file(tracker("路灯坏了好几天了", "seek_help", slots=slots, metadata={"channel": "rest"}))
    assert events == RESET
    text = dispatcher.messages[0]["text"]
    assert text.startswith("已为您登记求助，工单号WO")
    assert "请记下工单号" in text and "拨打12345热线，报上工单号" in text
    async with hotline.database.session() as session:
        order = (await session.execute(select(WorkOrder))).scalar_one()
    assert (order.channel, order.citizen_id, order.kind) == ("rest", None, "求助")


async def test_nothing_is_filed_without_details(hotline: runtime.Hotline) -> None:
    events, dispatcher = await file(tracker("", slots={"report_kind": "投诉"}))
    assert events == RESET
    assert dispatcher.messages == []
    async with hotline.database.session() as session:
        assert (await session.execute(select(WorkOrder))).first() is None


async def test_database_down_files_nothing_and_says_so(hotline: runtime.Hotline) -> None:
    await hotline.database.close()
    runtime.use(runtime.Hotline(hotline.settings, type(hotline.database)("sqlite:////nonexistent/dir/x.db")))
    slots = {"report_kind": "建议", "report_details": "地铁站多加几个出口"}
    events, dispatcher = await file(tracker("地铁站多加几个出口", "suggest", slots=slots))
    assert events == RESET
    assert [m["text"] for m in dispatcher.messages] == [
        "抱歉，系统暂时查询不到相关信息，请稍后再试。需要的话可以说“转人工”。"
    ]
