"""The report's read-back, and filing the confirmed report as a work order."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions.report_filing import ActionAskReportConfirmed, ActionFileReport
from bot.actions.report_slots import REPORT_SLOTS
from bot.catalog import runtime
from bot.core.clock import UTC, china
from bot.core.db import Database
from bot.core.models import WorkOrder
from bot.work_orders.notifications import deadline_text
from tests.actions.conftest import COMPLAINT, NOW, READY, ask, buttons, citizen_id, tracker

# --- read-back ------------------------------------------------------------------------------------


async def test_the_read_back_has_every_field_and_masks_the_phone(hotline: runtime.Hotline) -> None:
    t = tracker("", slots={**COMPLAINT, "report_contact": "13912345678"})
    message = (await ask(ActionAskReportConfirmed(), t)).messages[0]
    assert message["text"] == (
        "请核对您要登记的投诉：\n类型：投诉\n事情：天河区龙口西路的垃圾站三天没人清运了，臭味很大\n"
        "地点：天河区龙口西路\n时间：三天\n联系方式：手机139****5678\n"
        "没问题请回复“确认提交”；要改哪里直接说就行，比如“地址不对，是天河路100号”或“改一下时间”。"
    )
    assert buttons(message) == ["确认提交", "修改"]
    verified = {"citizen_id": await citizen_id(hotline)}
    t = tracker("", slots={**COMPLAINT, "report_contact": "verified"}, metadata=verified)
    assert "联系方式：您验证过的手机（尾号5678）" in (await ask(ActionAskReportConfirmed(), t)).messages[0]["text"]


# An anonymous 举报 of a gas leak at a location the citizen shared.
ANONYMOUS_AT_LOCATION = {
    "report_kind": "举报",
    "report_details": "小区燃气管道漏气，有人私接燃气管",
    "report_location": {"latitude": 23.1291, "longitude": 113.2644},
    "report_since": "昨晚",
    "report_contact": "anonymous",
}


async def test_the_read_back_of_an_anonymous_report_at_a_shared_location(hotline: runtime.Hotline) -> None:
    text = (await ask(ActionAskReportConfirmed(), tracker("", slots=ANONYMOUS_AT_LOCATION))).messages[0]["text"]
    assert "地点：您发送的位置\n" in text
    assert "联系方式：匿名（不留联系方式，办理结果无法通知您）" in text


async def test_which_field_offers_only_the_fields_of_the_kind(hotline: runtime.Hotline) -> None:
    t = tracker("", slots={"report_kind": "咨询", "report_asking": "which_field"})
    message = (await ask(ActionAskReportConfirmed(), t)).messages[0]
    assert message["text"] == "请问要修改哪一项？也可以直接说改成什么，比如“地址是天河路100号”。"
    assert buttons(message) == ["事情", "联系方式"]


# --- deadlines ------------------------------------------------------------------------------------


def test_deadlines_in_plain_chinese() -> None:
    assert deadline_text(china(2026, 11, 28, 11, 30), NOW) == "今天11:30"
    assert deadline_text(china(2026, 11, 29, 23, 59, 59), NOW) == "明天"
    assert deadline_text(china(2026, 12, 3, 23, 59, 59), NOW) == "12月3日（星期四）"
    assert deadline_text(china(2027, 1, 4, 23, 59, 59), NOW) == "2027年1月4日（星期一）"
    assert deadline_text(china(2026, 11, 29, 18, 0), NOW) == "明天18:00"
    assert deadline_text(china(2026, 12, 3, 14, 30), NOW) == "12月3日（星期四）14:30"


def test_deadlines_in_notifications_name_the_date() -> None:
    assert deadline_text(china(2026, 11, 29, 23, 59, 59)) == "11月29日"
    assert deadline_text(china(2026, 11, 28, 11, 30)) == "11月28日11:30"


def test_deadlines_are_told_in_china_time_whatever_the_zone_of_the_moments() -> None:
    # As the database gives them back: in UTC. 15:59:59 UTC is the end of the China day.
    due, now = datetime(2026, 11, 29, 15, 59, 59, tzinfo=UTC), datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    assert deadline_text(due, now) == "明天"  # it is already the 28th in China
    assert deadline_text(due) == "11月29日"
    assert deadline_text(datetime(2026, 11, 28, 3, 30, tzinfo=UTC), now) == "今天11:30"
    with pytest.raises(ValueError, match="naive"):
        deadline_text(datetime(2026, 11, 29, 23, 59, 59))


# --- filing ---------------------------------------------------------------------------------------


async def file(t: Tracker) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await ActionFileReport().run(dispatcher, t, {})
    return events, dispatcher


RESET_EVENTS = [SlotSet(slot, None) for slot in REPORT_SLOTS]
NUMBER = re.compile(r"工单号(WO\d{13})。")


async def stored_orders(database: Database) -> list[WorkOrder]:
    async with database.session() as session:
        return list(await session.scalars(select(WorkOrder).order_by(WorkOrder.number)))


async def test_a_confirmed_report_of_a_verified_citizen_is_filed_with_every_field(hotline: runtime.Hotline) -> None:
    metadata = {"channel": "sms", "citizen_id": await citizen_id(hotline)}
    slots = {**READY, "report_confirmed": "yes"}
    events, dispatcher = await file(tracker("确认提交", slots=slots, metadata=metadata))
    assert events == RESET_EVENTS
    text = dispatcher.messages[0]["text"]
    match = NUMBER.search(text)
    assert match is not None
    [order] = await stored_orders(hotline.database)
    assert order.number == match.group(1) == dispatcher.messages[0]["custom"]["number"]
    assert (order.kind, order.summary, order.title, order.district, order.address, order.since) == (
        "投诉",
        COMPLAINT["report_details"],
        "天河区龙口西路的垃圾站三天没人清运了",
        "天河区",
        "龙口西路",
        "三天",
    )
    assert (order.citizen_id, order.contact_phone, order.anonymous, order.source, order.channel) == (
        metadata["citizen_id"],
        None,
        False,
        "conversation",
        "sms",
    )
    assert order.urgency == "normal" and order.category_l1 is not None
    handled_by = f"已转交{order.department}办理" if order.department else "将由调度员分派给承办部门"
    assert text.startswith(f"已为您登记投诉，工单号{order.number}。{handled_by}，")
    assert text.endswith("前会给您答复。办理进展会通知您。")
    assert dispatcher.messages[1]["response"] == "utter_anything_else"


async def test_an_anonymous_report_keeps_no_citizen_and_an_urgent_one_is_urgent(hotline: runtime.Hotline) -> None:
    slots = {**ANONYMOUS_AT_LOCATION, "report_confirmed": "yes"}
    metadata = {"channel": "telegram", "citizen_id": await citizen_id(hotline)}
    _, dispatcher = await file(tracker("确认提交", slots=slots, metadata=metadata))
    [order] = await stored_orders(hotline.database)
    assert (order.anonymous, order.citizen_id, order.contact_phone) == (True, None, None)
    assert (order.latitude, order.longitude, order.district, order.urgency) == (23.1291, 113.2644, None, "urgent")
    assert "您是匿名反映，我们不会记录您的联系方式。请记下工单号" in dispatcher.messages[0]["text"]


async def test_another_number_is_stored_and_shown_masked(hotline: runtime.Hotline) -> None:
    slots = {**COMPLAINT, "report_contact": "13912345678", "report_confirmed": "yes", "report_since": "不详"}
    _, dispatcher = await file(tracker("确认提交", slots=slots, metadata={"channel": "webchat"}))
    [order] = await stored_orders(hotline.database)
    assert (order.contact_phone, order.citizen_id, order.since) == ("13912345678", None, None)
    assert "办理结果会通过您留的电话139****5678告诉您。" in dispatcher.messages[0]["text"]
    assert "13912345678" not in dispatcher.messages[0]["text"]


async def test_a_repeated_problem_is_linked_and_the_citizen_told(hotline: runtime.Hotline) -> None:
    slots = {**READY, "report_confirmed": "yes"}
    metadata = {"channel": "sms", "citizen_id": await citizen_id(hotline)}
    await file(tracker("确认提交", slots=slots, metadata=metadata))
    _, dispatcher = await file(tracker("确认提交", slots=slots, metadata={"channel": "webchat", "citizen_id": None}))
    first_order, second = await stored_orders(hotline.database)
    assert second.duplicate_of == first_order.number
    assert f"这个问题已经在工单{first_order.number}中处理，办理结果也会通知您。" in dispatcher.messages[0]["text"]


async def test_a_cancelled_report_files_nothing(hotline: runtime.Hotline) -> None:
    events, dispatcher = await file(tracker("算了", slots={**READY, "report_confirmed": "cancelled"}))
    assert events == RESET_EVENTS
    assert [message["response"] for message in dispatcher.messages] == ["utter_form_cancelled"]
    assert await stored_orders(hotline.database) == []


async def test_a_report_dropped_for_a_service_question_goes_on_to_answer_it(hotline: runtime.Hotline) -> None:
    """The third blind set's test half: "算了不是反映，我就想问问残疾证怎么办，要什么材料" got "已经取消" only."""
    text = "算了不是反映，我就想问问残疾证怎么办，要什么材料"
    entity = [{"entity": "service", "value": "残疾证", "start": text.index("残疾证"), "end": text.index("残疾证") + 3}]
    t = tracker(text, "ask_materials", slots={**READY, "report_confirmed": "cancelled"}, entities=entity)
    events, dispatcher = await file(t)
    assert events == [*RESET_EVENTS, FollowupAction("service_form")]  # the service form answers the question
    assert [message["text"] for message in dispatcher.messages] == ["好的，不登记了。"]  # no question before it
    assert await stored_orders(hotline.database) == []


async def test_nothing_is_filed_unless_confirmed(hotline: runtime.Hotline) -> None:
    events, dispatcher = await file(tracker("", slots=READY))
    assert events == RESET_EVENTS
    assert dispatcher.messages == []
    assert await stored_orders(hotline.database) == []


async def test_database_down_files_nothing_and_says_so(hotline: runtime.Hotline) -> None:
    await hotline.database.close()
    runtime.use(runtime.Hotline(hotline.settings, type(hotline.database)("sqlite:////nonexistent/dir/x.db")))
    events, dispatcher = await file(tracker("确认提交", slots={**READY, "report_confirmed": "yes"}))
    assert events == RESET_EVENTS
    assert dispatcher.messages[0]["text"] == "抱歉，系统暂时查询不到相关信息。"
