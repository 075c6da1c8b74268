"""The progress form, ownership check and answer: exact events and responses."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import runtime
from bot.actions.progress import ActionShowProgress, ValidateProgressForm
from tests.actions.conftest import APPLICANT_PHONE, FINISHED, IN_PROGRESS, OVERDUE, run_validation, tracker


async def run_form(t: Tracker) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    return await run_validation(ValidateProgressForm(), "progress_form", ["case_number", "verify_code"], t)


async def test_spoken_case_number_is_accepted(hotline: runtime.Hotline) -> None:
    events, dispatcher = await run_form(tracker("帮我查下二零二六一一二零零零零一五八", "ask_progress"))
    assert SlotSet("case_number", IN_PROGRESS) in events
    assert SlotSet("verify_code", None) in events
    assert dispatcher.messages == []


async def test_malformed_case_number_is_explained(hotline: runtime.Hotline) -> None:
    slots = {"requested_slot": "case_number"}
    events, dispatcher = await run_form(tracker("12345678", "inform", slots=slots, active_loop="progress_form"))
    assert events == [SlotSet("case_number", None)]
    assert "14位数字" in dispatcher.messages[0]["text"]


async def test_unknown_case_number_is_said(hotline: runtime.Hotline) -> None:
    slots = {"requested_slot": "case_number"}
    events, dispatcher = await run_form(tracker("20261120999999", "inform", slots=slots, active_loop="progress_form"))
    assert SlotSet("case_number", None) in events
    assert dispatcher.messages[0]["text"].startswith("没有查到编号为20261120999999的办件")


async def test_right_tail_verifies(hotline: runtime.Hotline) -> None:
    slots = {"requested_slot": "verify_code", "case_number": IN_PROGRESS}
    events, dispatcher = await run_form(tracker("后四位五六七八", "inform", slots=slots, active_loop="progress_form"))
    assert SlotSet("verify_code", "已验证") in events
    assert SlotSet("verified_cases", [IN_PROGRESS]) in events
    assert dispatcher.messages == []


async def test_wrong_tails_count_down_then_lock_and_stop_the_form(hotline: runtime.Hotline) -> None:
    slots = {"requested_slot": "verify_code", "case_number": IN_PROGRESS}
    texts = []
    for answer in ("1111", "2222"):
        events, dispatcher = await run_form(tracker(answer, "inform", slots=slots, active_loop="progress_form"))
        assert events == [SlotSet("verify_code", None)]
        texts.append(dispatcher.messages[0]["text"])
    assert texts == ["后四位与登记的手机号不一致，还可以再试2次。", "后四位与登记的手机号不一致，还可以再试1次。"]
    events, dispatcher = await run_form(tracker("3333", "inform", slots=slots, active_loop="progress_form"))
    assert SlotSet("requested_slot", None) in events and SlotSet("case_number", None) in events
    assert dispatcher.messages[0]["text"].startswith("验证失败次数过多")


async def test_caller_verified_number_skips_the_question(hotline: runtime.Hotline) -> None:
    t = tracker(IN_PROGRESS, "inform", metadata={"verified_phone": APPLICANT_PHONE})
    events, _ = await run_form(t)
    assert SlotSet("verify_code", "本机号码") in events
    assert SlotSet("verified_cases", [IN_PROGRESS]) in events


async def test_a_client_that_is_not_the_applicant_must_still_answer(hotline: runtime.Hotline) -> None:
    t = tracker(IN_PROGRESS, "inform", metadata={"verified_phone": "13800000000"})
    events, _ = await run_form(t)
    assert SlotSet("verify_code", None) in events


async def test_no_detail_without_proof(hotline: runtime.Hotline) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionShowProgress().run(dispatcher, tracker(slots={"case_number": IN_PROGRESS}), {})
    assert events == [SlotSet("case_number", None), SlotSet("verify_code", None)]
    assert dispatcher.messages == []


async def test_progress_of_a_verified_case(hotline: runtime.Hotline) -> None:
    dispatcher = CollectingDispatcher()
    slots = {"case_number": IN_PROGRESS, "verified_cases": [IN_PROGRESS]}
    events = await ActionShowProgress().run(dispatcher, tracker(slots=slots), {})
    assert events == [SlotSet("case_number", None), SlotSet("verify_code", None)]
    text = dispatcher.messages[0]["text"]
    assert text.startswith(
        f"办件编号{IN_PROGRESS}（普通护照签发（首次申领），广州市公安局出入境管理支队）\n当前进度：审查"
    )
    assert "11-20 09:30 受理（越秀办证大厅受理） → 11-21 14:00 审查" in text
    assert dispatcher.messages[0]["custom"]["spoken_number"] == " ".join(IN_PROGRESS)


async def test_overdue_case_offers_supervision(hotline: runtime.Hotline) -> None:
    dispatcher = CollectingDispatcher()
    slots = {"case_number": OVERDUE, "verified_cases": [OVERDUE]}
    events = await ActionShowProgress().run(dispatcher, tracker(slots=slots), {})
    assert SlotSet("pending_offer", f"supervise:{OVERDUE}") in events
    assert "已经超过承诺时限" in dispatcher.messages[1]["text"]
    assert [b["payload"] for b in dispatcher.messages[1]["buttons"]] == ["需要督办", "不用了"]


async def test_finished_case(hotline: runtime.Hotline) -> None:
    dispatcher = CollectingDispatcher()
    slots = {"case_number": FINISHED, "verified_cases": [FINISHED]}
    await ActionShowProgress().run(dispatcher, tracker(slots=slots), {})
    assert "已于2026年09月10日办结" in dispatcher.messages[0]["text"]
