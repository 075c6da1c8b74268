"""回访 of a closed work order and the rating of a closed handoff: exact events and responses."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions.follow_up import (
    FOLLOW_UP_SLOTS,
    ActionAskFollowUpSolved,
    ActionAskHandoffRating,
    ActionRecordFollowUp,
    ActionRecordHandoffRating,
    ActionStartFollowUp,
    ValidateFollowUpForm,
    ValidateHandoffRatingForm,
    parse_rating,
    parse_solved,
)
from bot.catalog import runtime
from bot.citizens.identity import identify
from bot.core.clock import china
from bot.core.models import WorkOrderNote
from bot.handoff import records as handoffs
from bot.handoff.agents import add_agent
from bot.work_orders.filing import NewOrder, file_order
from bot.work_orders.lifecycle import accept, close, dispatch, order_detail
from tests.actions.conftest import APPLICANT_PHONE, run, run_validation, tracker
from tests.bot.conftest import complaint

NOW = china(2026, 11, 27, 15, 0)
REPLY = "经核查，物业已于11月25日修复电梯，并承诺每月检修一次。"
EXTERNAL = {"is_external": True}
RESET = [SlotSet(slot, None) for slot in FOLLOW_UP_SLOTS]


async def citizen_id(hotline: runtime.Hotline, phone: str = APPLICANT_PHONE) -> int:
    return (await identify(hotline.database, phone, str(hotline.settings.pii_hash_key), NOW)).id


async def closed_order(hotline: runtime.Hotline, citizen: int | None, **fields: Any) -> str:
    """A complaint of ``citizen`` (``fields`` changed) that its department has answered and closed."""
    order = complaint(title="小区电梯坏了两周", sender_id="citizen-1", channel="sms", citizen_id=citizen, **fields)
    filed = await file_order(hotline.database, order, NOW)
    department = filed.department or "广州市天河区住房和城乡建设局"
    if filed.department is None:
        await dispatch(hotline.database, filed.number, department, "调度员", NOW)
    await accept(hotline.database, filed.number, department, "承办人", NOW)
    await close(hotline.database, filed.number, department, "承办人", REPLY, NOW)
    return filed.number


def history(citizen: int | None) -> list[dict[str, Any]]:
    """Earlier messages of the conversation, as the channel sent them."""
    return [{"event": "user", "text": "我要投诉", "metadata": {"channel": "sms", "citizen_id": citizen}}]


def triggered(intent: str, entities: dict[str, str], events: list[dict[str, Any]], **kwargs: Any) -> Tracker:
    """The event the hotline triggers: no text of the citizen, no channel metadata."""
    found = [{"entity": name, "value": value} for name, value in entities.items()]
    return tracker(
        f"EXTERNAL: {intent}",
        intent,
        entities=found,
        metadata=EXTERNAL,
        events=events,
        latest_action="action_listen",
        **kwargs,
    )


# --- reading answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("满意", "满意"),
        ("非常满意", "满意"),
        ("不错", "满意"),
        ("基本满意", "基本满意"),
        ("还行吧", "基本满意"),
        ("不满意", "不满意"),
        ("很差", "不满意"),
        ("1", "满意"),
        ("第二个", "基本满意"),
        ("三", "不满意"),
        ("好的", None),
        ("我想问一下护照", None),
        ("", None),
    ],
)
def test_ratings_by_word_number_or_button(text: str, rating: str | None) -> None:
    assert parse_rating(text) == rating


@pytest.mark.parametrize(
    ("text", "intent", "solved"),
    [
        ("已解决", "inform", True),
        ("解决了，谢谢", "thank", True),
        ("是的", "affirm", True),
        ("1", "inform", True),
        ("未解决", "inform", False),
        ("还是老样子", "inform", False),
        ("没有", "deny", False),
        ("2", "inform", False),
        ("你好", "greet", None),
    ],
)
def test_solved_or_not(text: str, intent: str, solved: bool | None) -> None:
    assert parse_solved(text, intent) is solved


# --- starting the 回访 ----------------------------------------------------------------------------


async def test_the_follow_up_starts_in_the_conversation_of_the_citizen_who_filed(hotline: runtime.Hotline) -> None:
    citizen = await citizen_id(hotline)
    number = await closed_order(hotline, citizen)
    t = triggered("EXTERNAL_follow_up", {"order_number": number}, history(citizen))
    events, dispatcher = await run(ActionStartFollowUp(), t)
    assert events == [*RESET, SlotSet("follow_up_order", number), SlotSet("follow_up_reply", REPLY)]
    assert dispatcher.messages == []


async def test_no_follow_up_in_another_citizens_conversation(hotline: runtime.Hotline) -> None:
    number = await closed_order(hotline, await citizen_id(hotline))
    other = await citizen_id(hotline, "13800001111")
    for events_before in (history(other), history(None), []):
        events, dispatcher = await run(
            ActionStartFollowUp(), triggered("EXTERNAL_follow_up", {"order_number": number}, events_before)
        )
        assert events == RESET
        assert dispatcher.messages == []


async def test_the_follow_up_starts_for_the_number_given_for_an_order_and_nobody_else(
    hotline: runtime.Hotline,
) -> None:
    # Filed without a verified citizen, with a number: the 回访 is asked in that number's SMS thread,
    # whose citizen (the number, as the SMS channel knows it) the hotline names in the event.
    number = await closed_order(hotline, None, contact_phone="13800002222")
    given = await citizen_id(hotline, "13800002222")
    events, _ = await run(
        ActionStartFollowUp(), triggered("EXTERNAL_follow_up", {"order_number": number}, history(given))
    )
    assert events == [*RESET, SlotSet("follow_up_order", number), SlotSet("follow_up_reply", REPLY)]
    other = await citizen_id(hotline, "13800003333")
    for events_before in (history(other), history(None)):
        t = triggered("EXTERNAL_follow_up", {"order_number": number}, events_before)
        assert (await run(ActionStartFollowUp(), t))[0] == RESET


async def test_no_follow_up_of_an_order_that_is_not_closed_or_unknown(hotline: runtime.Hotline) -> None:
    citizen = await citizen_id(hotline)
    order = NewOrder(
        type="投诉",
        summary="电梯坏了",
        category=("城乡建设", "住房保障与房地产", "物业服务"),
        sender_id="citizen-1",
        citizen_id=citizen,
    )
    open_number = (await file_order(hotline.database, order, NOW)).number
    for number in (open_number, "WO2026112799999", "不是工单号"):
        t = triggered("EXTERNAL_follow_up", {"order_number": number}, history(citizen))
        events, _ = await run(ActionStartFollowUp(), t)
        assert events == RESET


async def test_a_typed_event_name_is_not_a_follow_up(hotline: runtime.Hotline) -> None:
    t = tracker("EXTERNAL_follow_up WO2026112700001", "EXTERNAL_follow_up", latest_action="action_listen")
    events, dispatcher = await run(ActionStartFollowUp(), t)
    assert events == RESET
    assert [message["response"] for message in dispatcher.messages] == ["utter_ask_rephrase"]


# --- the questions --------------------------------------------------------------------------------

ORDER = "WO2026112700001"


def follow_up(slot: str | None, text: str = "", intent: str = "inform", **slots: Any) -> Tracker:
    """The citizen's answer when the 回访 asked for ``slot``."""
    values = {"follow_up_order": ORDER, "follow_up_reply": REPLY, "requested_slot": slot, **slots}
    return tracker(text, intent, slots=values, active_loop="follow_up_form", latest_action="action_listen")


async def validate(t: Tracker) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    required = ["follow_up_solved", "follow_up_satisfaction", "follow_up_words"]
    return await run_validation(ValidateFollowUpForm(), "follow_up_form", required, t)


async def test_the_form_starts_with_whether_it_is_solved_or_ends_when_there_is_no_order() -> None:
    start = tracker("EXTERNAL: EXTERNAL_follow_up", "EXTERNAL_follow_up", slots={"follow_up_order": ORDER})
    events, _ = await validate(start)
    assert events == [SlotSet("requested_slot", "follow_up_solved")]
    events, _ = await validate(tracker("EXTERNAL: EXTERNAL_follow_up", "EXTERNAL_follow_up"))
    assert events == [SlotSet("requested_slot", None)]


async def test_solved_and_satisfied_needs_no_words() -> None:
    events, _ = await validate(follow_up("follow_up_solved", "已解决"))
    assert events == [SlotSet("follow_up_solved", True), SlotSet("requested_slot", "follow_up_satisfaction")]
    events, _ = await validate(follow_up("follow_up_satisfaction", "1", follow_up_solved=True))
    assert events == [SlotSet("follow_up_satisfaction", "满意"), SlotSet("requested_slot", None)]


@pytest.mark.parametrize(("solved", "rating"), [(False, "满意"), (True, "不满意"), (False, "不满意")])
async def test_not_solved_or_unsatisfied_asks_what_is_wrong(solved: bool, rating: str) -> None:
    events, _ = await validate(follow_up("follow_up_satisfaction", rating, follow_up_solved=solved))
    assert events == [SlotSet("follow_up_satisfaction", rating), SlotSet("requested_slot", "follow_up_words")]
    answered = follow_up("follow_up_words", "电梯还是经常停", follow_up_solved=solved, follow_up_satisfaction=rating)
    events, _ = await validate(answered)
    assert events == [SlotSet("follow_up_words", "电梯还是经常停"), SlotSet("requested_slot", None)]
    events, _ = await validate(
        follow_up("follow_up_words", "没有了", follow_up_solved=solved, follow_up_satisfaction=rating)
    )
    assert events == [SlotSet("follow_up_words", ""), SlotSet("requested_slot", None)]


async def test_an_unclear_answer_is_asked_again_with_the_choices() -> None:
    events, dispatcher = await validate(follow_up("follow_up_solved", "那个部门的人来过"))
    assert events == [SlotSet("follow_up_solved", None), SlotSet("requested_slot", "follow_up_solved")]
    assert dispatcher.messages[0]["text"] == "请回答“已解决”或“未解决”。"
    events, dispatcher = await validate(follow_up("follow_up_satisfaction", "那个部门的人来过", follow_up_solved=True))
    assert events == [SlotSet("follow_up_satisfaction", None), SlotSet("requested_slot", "follow_up_satisfaction")]
    assert dispatcher.messages[0]["text"] == "请回答“满意”“基本满意”或“不满意”，也可以回复1、2、3。"


async def test_digressions_and_endings_are_left_to_the_rules_then_the_question_comes_again() -> None:
    for intent, text in (("greet", "你好"), ("goodbye", "再见"), ("request_human", "转人工")):
        events, _ = await validate(follow_up("follow_up_solved", text, intent))
        assert events == []
    after = tracker(
        "你好",
        "greet",
        slots={"follow_up_order": ORDER, "requested_slot": "follow_up_solved"},
        active_loop="follow_up_form",
        latest_action="utter_greet",
    )
    events, _ = await validate(after)
    assert events == [SlotSet("requested_slot", "follow_up_solved")]


async def test_stop_words_end_the_follow_up_without_recording() -> None:
    events, _ = await validate(follow_up("follow_up_solved", "算了不用了", "deny"))
    assert events == [SlotSet("follow_up_satisfaction", "stopped"), SlotSet("requested_slot", None)]


async def test_the_first_question_says_the_reply_and_later_ones_only_ask() -> None:
    slots = {"follow_up_order": ORDER, "follow_up_reply": REPLY}
    start = [{"event": "action", "name": "action_start_follow_up"}, {"event": "action", "name": "follow_up_form"}]
    _, dispatcher = await run(ActionAskFollowUpSolved(), tracker("", slots=slots, events=start))
    message = dispatcher.messages[0]
    assert message["text"] == (
        f"您反映的问题（工单{ORDER}）已办结，答复是：经核查，物业已于11月25日修复电梯，并承诺每月检修一次。"
        "请问问题解决了吗？"
    )
    assert [button["payload"] for button in message["buttons"]] == ["已解决", "未解决"]
    again = [*start, {"event": "bot", "text": message["text"]}, {"event": "user", "text": "你好"}]
    _, dispatcher = await run(ActionAskFollowUpSolved(), tracker("", slots=slots, events=again))
    assert dispatcher.messages[0]["text"] == f"请问您反映的问题（工单{ORDER}）解决了吗？"


# --- recording ------------------------------------------------------------------------------------


def answered(number: str, solved: bool, satisfaction: str, words: str | None = None) -> Tracker:
    slots = {
        "follow_up_order": number,
        "follow_up_solved": solved,
        "follow_up_satisfaction": satisfaction,
        "follow_up_words": words,
    }
    return tracker("满意", slots=slots, metadata={"channel": "sms"})


async def test_solved_and_satisfied_completes_the_follow_up(hotline: runtime.Hotline) -> None:
    number = await closed_order(hotline, await citizen_id(hotline))
    events, dispatcher = await run(ActionRecordFollowUp(), answered(number, True, "满意"))
    assert events == RESET
    assert dispatcher.messages[0]["text"] == f"感谢您的评价！工单{number}的回访已完成。还有什么可以帮您？"
    detail = await order_detail(hotline.database, number)
    assert (detail.state, detail.solved, detail.satisfaction) == ("已回访", True, "满意")


async def test_unsatisfied_reopens_the_order_with_the_citizens_words(hotline: runtime.Hotline) -> None:
    number = await closed_order(hotline, await citizen_id(hotline))
    _, dispatcher = await run(ActionRecordFollowUp(), answered(number, True, "不满意", "电梯还是经常停"))
    assert dispatcher.messages[0]["text"] == (
        f"已收到您的意见，工单{number}已重新交办承办部门，处理结果会再通知您。还有什么可以帮您？"
    )
    detail = await order_detail(hotline.database, number)
    assert (detail.state, detail.reopened, detail.satisfaction) == ("办理中", 1, "不满意")
    async with hotline.database.session() as session:
        notes = list(await session.scalars(select(WorkOrderNote.text).where(WorkOrderNote.order_number == number)))
    assert notes == ["电梯还是经常停"]


async def test_a_second_answer_is_not_recorded_twice(hotline: runtime.Hotline) -> None:
    number = await closed_order(hotline, await citizen_id(hotline))
    await run(ActionRecordFollowUp(), answered(number, True, "满意"))
    _, dispatcher = await run(ActionRecordFollowUp(), answered(number, False, "不满意", "没修"))
    assert dispatcher.messages[0]["text"] == f"工单{number}已经回访过了，感谢您的反馈。还有什么可以帮您？"
    assert (await order_detail(hotline.database, number)).state == "已回访"


async def test_a_stopped_follow_up_records_nothing_and_says_so(hotline: runtime.Hotline) -> None:
    number = await closed_order(hotline, await citizen_id(hotline))
    t = tracker("算了", slots={"follow_up_order": number, "follow_up_satisfaction": "stopped"})
    events, dispatcher = await run(ActionRecordFollowUp(), t)
    assert events == RESET
    assert dispatcher.messages[0]["text"] == "好的，不打扰您了。还有什么可以帮您？"
    assert (await order_detail(hotline.database, number)).state == "已办结"
    events, dispatcher = await run(ActionRecordFollowUp(), tracker(""))
    assert (events, dispatcher.messages) == (RESET, [])


async def test_database_down_when_recording_says_so(hotline: runtime.Hotline) -> None:
    await hotline.database.close()
    runtime.use(runtime.Hotline(hotline.settings, type(hotline.database)("sqlite:////nonexistent/dir/x.db")))
    events, dispatcher = await run(ActionRecordFollowUp(), answered(ORDER, True, "满意"))
    assert events == RESET
    assert dispatcher.messages[0]["text"] == "抱歉，系统暂时查询不到相关信息。"


# --- the rating of a handoff ----------------------------------------------------------------------


async def closed_handoff(hotline: runtime.Hotline, conversation: str = "citizen-1") -> int:
    handoff, _ = await handoffs.open_handoff(hotline.database, conversation, "webchat", None, "requested", {}, NOW)
    agent = await add_agent(hotline.database, f"agent{handoff.id}", "小王", "agent", "a long enough password 1", NOW)
    await handoffs.assign(hotline.database, handoff.id, agent.id, NOW)
    await handoffs.close(hotline.database, handoff.id, agent.id, NOW)
    return handoff.id


async def rate(t: Tracker) -> list[dict[str, Any]]:
    events, _ = await run_validation(ValidateHandoffRatingForm(), "handoff_rating_form", ["handoff_rating"], t)
    return events


async def test_the_rating_is_asked_for_this_conversations_handoff_only(hotline: runtime.Hotline) -> None:
    mine = await closed_handoff(hotline)
    other = await closed_handoff(hotline, "someone-else")
    events = await rate(triggered("EXTERNAL_handoff_closed", {"handoff_id": str(mine)}, []))
    assert events == [
        SlotSet("handoff_rating_id", str(mine)),
        SlotSet("handoff_rating", None),
        SlotSet("requested_slot", "handoff_rating"),
    ]
    for raw in (str(other), "999", "abc"):
        events = await rate(triggered("EXTERNAL_handoff_closed", {"handoff_id": raw}, []))
        assert events == [
            SlotSet("handoff_rating_id", None),
            SlotSet("handoff_rating", None),
            SlotSet("requested_slot", None),
        ]
    typed = tracker(
        "EXTERNAL_handoff_closed", "EXTERNAL_handoff_closed", entities=[{"entity": "handoff_id", "value": str(mine)}]
    )
    assert (await rate(typed))[0] == SlotSet("handoff_rating_id", None)


def rating_answer(text: str, intent: str = "inform", latest_action: str = "action_listen") -> Tracker:
    slots = {"handoff_rating_id": "1", "requested_slot": "handoff_rating"}
    return tracker(text, intent, slots=slots, active_loop="handoff_rating_form", latest_action=latest_action)


@pytest.mark.parametrize(("text", "rating"), [("满意", "满意"), ("2", "基本满意"), ("太差了", "不满意")])
async def test_a_rating_by_word_number_or_button(text: str, rating: str) -> None:
    assert await rate(rating_answer(text)) == [SlotSet("handoff_rating", rating), SlotSet("requested_slot", None)]


async def test_anything_else_is_handled_as_usual_and_the_question_is_not_asked_again() -> None:
    assert await rate(rating_answer("办护照要带什么", "ask_materials")) == []
    after = rating_answer("你好", "greet", latest_action="utter_greet")
    assert await rate(after) == [SlotSet("handoff_rating", None), SlotSet("requested_slot", None)]


async def test_the_rating_question_and_the_thanks(hotline: runtime.Hotline) -> None:
    _, dispatcher = await run(ActionAskHandoffRating(), tracker(""))
    message = dispatcher.messages[0]
    assert message["text"] == "人工服务已结束，请您对本次服务评价："
    assert [button["payload"] for button in message["buttons"]] == ["满意", "基本满意", "不满意"]
    handoff_id = await closed_handoff(hotline)
    slots = {"handoff_rating_id": str(handoff_id), "handoff_rating": "基本满意"}
    events, dispatcher = await run(ActionRecordHandoffRating(), tracker("2", slots=slots))
    assert events == [SlotSet("handoff_rating_id", None), SlotSet("handoff_rating", None)]
    assert dispatcher.messages[0]["text"] == "感谢您的评价！还有什么可以帮您？"
    assert (await handoffs.get_handoff(hotline.database, handoff_id)).rating == "基本满意"
    # A second rating does not replace the first.
    await run(ActionRecordHandoffRating(), tracker("3", slots={**slots, "handoff_rating": "不满意"}))
    assert (await handoffs.get_handoff(hotline.database, handoff_id)).rating == "基本满意"


async def test_no_rating_no_record(hotline: runtime.Hotline) -> None:
    handoff_id = await closed_handoff(hotline)
    events, dispatcher = await run(
        ActionRecordHandoffRating(), tracker("", slots={"handoff_rating_id": str(handoff_id)})
    )
    assert events == [SlotSet("handoff_rating_id", None), SlotSet("handoff_rating", None)]
    assert dispatcher.messages == []
    assert (await handoffs.get_handoff(hotline.database, handoff_id)).rating is None
