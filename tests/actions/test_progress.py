"""The progress form, ownership check and answer: exact events and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.progress import ActionShowProgress, ValidateProgressForm, lock_end
from bot.catalog import runtime
from bot.citizens.identity import identify
from bot.citizens.ownership import Verdict, Verification
from bot.core.clock import UTC, china
from bot.work_orders.filing import NewOrder, file_order
from tests.actions.conftest import APPLICANT_PHONE, FINISHED, IN_PROGRESS, OVERDUE, run_validation, tracker

NOW = china(2026, 11, 28, 9)


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


def test_the_lock_ends_at_a_china_time() -> None:
    # The database gives the lock's end back in UTC: 06:30 UTC is 14:30 in Guangzhou.
    locked = Verification(Verdict.LOCKED, locked_until=datetime(2026, 11, 28, 6, 30, tzinfo=UTC))
    assert lock_end(locked) == "14:30"


async def citizen_id(hotline: runtime.Hotline, phone: str) -> int:
    citizen = await identify(hotline.database, phone, str(hotline.settings.pii_hash_key), NOW)
    return citizen.id


async def test_the_verified_applicant_skips_the_question(hotline: runtime.Hotline) -> None:
    metadata = {"channel": "voice", "citizen_id": await citizen_id(hotline, APPLICANT_PHONE)}
    events, dispatcher = await run_form(tracker(IN_PROGRESS, "inform", metadata=metadata))
    assert SlotSet("verify_code", "本机号码") in events
    assert SlotSet("verified_cases", [IN_PROGRESS]) in events
    assert dispatcher.messages == []


async def test_a_verified_citizen_who_is_not_the_applicant_must_still_answer(hotline: runtime.Hotline) -> None:
    metadata = {"channel": "telegram", "citizen_id": await citizen_id(hotline, "13800000000")}
    events, _ = await run_form(tracker(IN_PROGRESS, "inform", metadata=metadata))
    assert SlotSet("verify_code", None) in events
    assert not any(event.get("name") == "verified_cases" for event in events)


async def test_a_phone_number_in_metadata_proves_nothing(hotline: runtime.Hotline) -> None:
    events, _ = await run_form(tracker(IN_PROGRESS, "inform", metadata={"verified_phone": APPLICANT_PHONE}))
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
    buttons = dispatcher.messages[1]["buttons"]
    assert [b["title"] for b in buttons] == ["1. 需要督办", "2. 不用了"]
    # The buttons say yes and no themselves: words like 需要督办 could be misread by the NLU.
    assert [(b["payload"], b["answer"]) for b in buttons] == [("/affirm", "yes"), ("/deny", "no")]


async def test_finished_case(hotline: runtime.Hotline) -> None:
    dispatcher = CollectingDispatcher()
    slots = {"case_number": FINISHED, "verified_cases": [FINISHED]}
    await ActionShowProgress().run(dispatcher, tracker(slots=slots), {})
    assert "已于2026年09月10日办结" in dispatcher.messages[0]["text"]


# ---------------------------------------------------------------- work orders (工单)


# A category no routing rule covers: its orders wait for the dispatcher (待分派).
UNROUTED = ("城乡建设", "其他", "其他")


async def file_report(hotline: runtime.Hotline, summary: str, filer: int | None, at: datetime = NOW) -> str:
    order = NewOrder(
        kind="投诉",
        summary=summary,
        category=UNROUTED,
        sender_id="sms-1",
        channel="sms",
        citizen_id=filer,
    )
    return (await file_order(hotline.database, order, at)).number


async def show(slots: dict[str, Any], t: Tracker | None = None) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await ActionShowProgress().run(dispatcher, t or tracker(slots=slots), {})
    return events, dispatcher


async def test_an_order_filed_by_sms_is_shown_on_telegram_to_the_same_citizen(hotline: runtime.Hotline) -> None:
    filer = await citizen_id(hotline, APPLICANT_PHONE)
    number = await file_report(hotline, "楼下餐馆油烟太大", filer)
    metadata = {"channel": "telegram", "citizen_id": filer}
    events, dispatcher = await run_form(tracker(f"查一下工单{number.lower()}的进度", "ask_progress", metadata=metadata))
    assert SlotSet("order_number", number) in events
    assert SlotSet("order_verify_code", "本机号码") in events
    assert SlotSet("verified_orders", [number]) in events
    assert events[-1] == SlotSet("requested_slot", None)
    assert dispatcher.messages == []
    events, dispatcher = await show({"order_number": number, "verified_orders": [number]})
    assert events == [SlotSet("order_number", None), SlotSet("order_verify_code", None)]
    assert dispatcher.messages[0]["text"] == (
        f"工单号{number}（投诉）\n当前状态：已受理。承办部门：待分派。登记日期：2026年11月28日。\n内容：楼下餐馆油烟太大"
    )
    assert dispatcher.messages[0]["custom"]["short"] == "您的投诉工单目前的状态是已受理。"


async def test_someone_elses_order_asks_for_the_filers_last_four_digits(hotline: runtime.Hotline) -> None:
    number = await file_report(hotline, "楼下餐馆油烟太大", await citizen_id(hotline, APPLICANT_PHONE))
    stranger = {"channel": "telegram", "citizen_id": await citizen_id(hotline, "13800000000")}
    events, dispatcher = await run_form(tracker(number, "inform", metadata=stranger))
    assert SlotSet("order_number", number) in events
    assert events[-1] == SlotSet("requested_slot", "order_verify_code")
    assert dispatcher.messages == []
    slots = {"order_number": number, "requested_slot": "order_verify_code"}
    events, dispatcher = await run_form(tracker("五六七八", "inform", slots=slots, active_loop="progress_form"))
    assert SlotSet("order_verify_code", "已验证") in events
    assert SlotSet("verified_orders", [number]) in events
    assert events[-1] == SlotSet("requested_slot", None)


async def test_an_order_number_said_to_the_ownership_question_is_not_a_wrong_answer(hotline: runtime.Hotline) -> None:
    number = await file_report(hotline, "楼下餐馆油烟太大", await citizen_id(hotline, APPLICANT_PHONE))
    slots = {"order_number": number, "requested_slot": "order_verify_code"}
    events, dispatcher = await run_form(tracker(number, "inform", slots=slots, active_loop="progress_form"))
    assert SlotSet("order_number", number) in events
    assert events[-1] == SlotSet("requested_slot", "order_verify_code")
    assert dispatcher.messages == []
    events, dispatcher = await run_form(tracker("1111", "inform", slots=slots, active_loop="progress_form"))
    assert dispatcher.messages[0]["text"] == "后四位与登记的手机号不一致，还可以再试2次。"


async def test_three_wrong_answers_lock_the_order_and_show_nothing(hotline: runtime.Hotline) -> None:
    number = await file_report(hotline, "楼下餐馆油烟太大", await citizen_id(hotline, APPLICANT_PHONE))
    slots = {"order_number": number, "requested_slot": "order_verify_code"}
    said = []
    for answer in ("1111", "2222", "3333"):
        events, dispatcher = await run_form(tracker(answer, "inform", slots=slots, active_loop="progress_form"))
        said.append(dispatcher.messages[0]["text"])
    assert said[:2] == ["后四位与登记的手机号不一致，还可以再试2次。", "后四位与登记的手机号不一致，还可以再试1次。"]
    assert said[2].startswith("验证失败次数过多，为保护您的信息，该工单的查询已暂时锁定")
    assert events[-1] == SlotSet("requested_slot", None)
    events, dispatcher = await show({"order_number": number, "order_verify_code": "未核实"})
    assert events == [SlotSet("order_number", None), SlotSet("order_verify_code", None)]
    assert dispatcher.messages == []


async def test_an_order_filed_without_a_verified_number_is_not_revealed(hotline: runtime.Hotline) -> None:
    number = await file_report(hotline, "隔壁装修太吵", None)
    events, dispatcher = await run_form(tracker(f"{number}处理到哪一步了", "ask_progress"))
    assert events[-1] == SlotSet("requested_slot", None)
    text = dispatcher.messages[0]["text"]
    assert text.startswith("这张工单登记时没有验证手机号") and "12345" in text
    assert "装修" not in text


async def test_an_unknown_order_number_is_said(hotline: runtime.Hotline) -> None:
    events, dispatcher = await run_form(tracker("WO2026112899999", "inform"))
    assert SlotSet("order_number", None) in events
    assert events[-1] == SlotSet("requested_slot", "order_number")
    assert dispatcher.messages[0]["text"].startswith("没有查到工单号为WO2026112899999的工单")


async def test_asking_about_a_report_without_a_verified_number_asks_for_the_order_number(
    hotline: runtime.Hotline,
) -> None:
    events, dispatcher = await run_form(tracker("我反映的问题处理得怎么样了", "ask_progress"))
    assert events[-1] == SlotSet("requested_slot", "order_number")
    assert dispatcher.messages == []
    slots = {"requested_slot": "order_number"}
    number = await file_report(hotline, "路灯坏了", await citizen_id(hotline, APPLICANT_PHONE))
    events, _ = await run_form(tracker(number[2:], "inform", slots=slots, active_loop="progress_form"))
    assert SlotSet("order_number", number) in events
    assert events[-1] == SlotSet("requested_slot", "order_verify_code")


async def test_a_verified_citizen_asking_about_reports_gets_the_open_ones_most_recent_first(
    hotline: runtime.Hotline,
) -> None:
    filer = await citizen_id(hotline, APPLICANT_PHONE)
    older = await file_report(hotline, "楼下餐馆油烟太大，每天晚上都熏到我家", filer)
    newer = await file_report(hotline, "路灯坏了", filer, NOW.replace(hour=15))
    await file_report(hotline, "别人的事", await citizen_id(hotline, "13800000000"))
    t = tracker("我的工单进度", "ask_progress", metadata={"channel": "sms", "citizen_id": filer})
    events, dispatcher = await run_form(t)
    assert events == [SlotSet("requested_slot", None)]
    events, dispatcher = await show({}, t)
    assert events == []
    assert dispatcher.messages[0]["text"] == (
        "您有2张在办的工单（最近的在前）：\n"
        f"1. {newer} 投诉 · 已受理 · 待分派 · 2026年11月28日 · 路灯坏了\n"
        f"2. {older} 投诉 · 已受理 · 待分派 · 2026年11月28日 · 楼下餐馆油烟太大，每天晚上都熏到我家\n"
        "想看哪一张的详情，说出它的工单号就可以。"
    )
    assert dispatcher.messages[0]["custom"]["numbers"] == [newer, older]


async def test_a_verified_citizen_without_orders_is_told_so(hotline: runtime.Hotline) -> None:
    t = tracker("我投诉的事有结果了吗", "ask_progress", metadata={"channel": "voice", "citizen_id": 999})
    _, dispatcher = await show({}, t)
    assert dispatcher.messages[0]["text"].startswith("没有查到您名下在办的工单")


async def test_a_case_number_still_means_a_case_when_reports_are_mentioned(hotline: runtime.Hotline) -> None:
    events, _ = await run_form(tracker(f"我投诉的那个件 编号{IN_PROGRESS}", "ask_progress"))
    assert SlotSet("case_number", IN_PROGRESS) in events


async def test_database_down_while_following_up_an_order(hotline: runtime.Hotline) -> None:
    await hotline.database.close()
    runtime.use(runtime.Hotline(hotline.settings, type(hotline.database)("sqlite:////nonexistent/dir/x.db")))
    events, dispatcher = await run_form(tracker("WO2026112800001", "inform"))
    assert dispatcher.messages[0]["text"].startswith("抱歉，系统暂时查询不到相关信息")
    assert events[-1] == SlotSet("requested_slot", None)
    t = tracker("我的工单进度", "ask_progress", metadata={"channel": "sms", "citizen_id": 1})
    _, dispatcher = await show({}, t)
    assert dispatcher.messages[0]["text"].startswith("抱歉，系统暂时查询不到相关信息")


@pytest.mark.parametrize(
    ("text", "intent"), [("我唔记得编号", "deny"), ("编号忘了", "inform"), ("找不到回执了", "nlu_fallback")]
)
async def test_a_citizen_without_the_number_is_told_where_to_find_it_or_how_else(
    hotline: runtime.Hotline, text: str, intent: str
) -> None:
    slots = {"requested_slot": "case_number"}
    events, dispatcher = await run_form(tracker(text, intent, slots=slots, active_loop="progress_form"))
    assert SlotSet("case_number", None) in events
    said = dispatcher.messages[0]["text"]
    assert "受理回执" in said and "手机号" in said and "转人工" in said


@pytest.mark.parametrize(
    "said",
    [
        f"麻烦查下办件{IN_PROGRESS}，我电话后四位是5678",
        f"尾号5678，编号{IN_PROGRESS}，护照办到哪了",  # the sixth blind set's test half: said before the number
        f"我老婆的护照办好没有，受理号{IN_PROGRESS}，她手机后面是五六七八",  # the seventh blind set
        f"{IN_PROGRESS}，5678",  # the tenth blind set's dev half: four digits alone after the number
    ],
)
async def test_the_last_four_digits_said_with_the_number_are_checked_at_once(
    hotline: runtime.Hotline, said: str
) -> None:
    # Asked again, a citizen who had just said them hears a question they already answered.
    events, dispatcher = await run_form(tracker(said, "ask_progress"))
    assert SlotSet("case_number", IN_PROGRESS) in events
    assert SlotSet("verify_code", "已验证") in events
    assert SlotSet("verified_cases", [IN_PROGRESS]) in events
    assert dispatcher.messages == []


async def test_a_year_said_after_the_number_is_no_phone_tail(hotline: runtime.Hotline) -> None:
    events, _ = await run_form(tracker(f"{IN_PROGRESS}，2026年11月申请的", "ask_progress"))
    assert SlotSet("verify_code", "已验证") not in events


@pytest.mark.parametrize("phone", ["13912345678", "139****5678"])
async def test_the_applicants_whole_number_said_with_the_case_number_verifies_it(
    hotline: runtime.Hotline, phone: str
) -> None:
    """The fifth blind set: a wife gave her husband's case and his whole number; she was asked the last four.
    The number may reach the form masked (the privacy layer keeps its last four)."""
    said = f"我老公上个月办的护照，他出差没空问，我帮他查一下，{IN_PROGRESS}，他手机是{phone}"
    events, dispatcher = await run_form(tracker(said, "ask_progress"))
    assert SlotSet("verify_code", "已验证") in events and SlotSet("verified_cases", [IN_PROGRESS]) in events
    assert dispatcher.messages == []


async def test_wrong_last_four_digits_said_with_the_number_count_as_an_answer(hotline: runtime.Hotline) -> None:
    events, dispatcher = await run_form(tracker(f"办件{IN_PROGRESS} 手机尾号1111", "ask_progress"))
    assert SlotSet("case_number", IN_PROGRESS) in events and SlotSet("verify_code", None) in events
    assert dispatcher.messages[0]["text"] == "后四位与登记的手机号不一致，还可以再试2次。"


def rest_of_the_number(first: str, rest: str) -> Tracker:
    """The citizen said ``first``, was asked for the case number, and now says ``rest``."""
    earlier = [
        {"event": "user", "text": first},
        {"event": "action", "name": "progress_form"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": rest},
    ]
    slots = {"requested_slot": "case_number"}
    return tracker(rest, "inform", slots=slots, active_loop="progress_form", events=earlier)


async def test_a_number_said_in_two_pieces_is_joined(hotline: runtime.Hotline) -> None:
    # On the phone the citizen paused after the date: the rest came as the next utterance.
    events, dispatcher = await run_form(rest_of_the_number("想问问进度 号码是 二零二六 一一二零", "零零零 一五八"))
    assert SlotSet("case_number", IN_PROGRESS) in events
    assert dispatcher.messages == []


async def test_part_of_a_number_said_with_its_name_is_said_to_be_incomplete(hotline: runtime.Hotline) -> None:
    """The eighth blind set's dev half: "我嘅受理号系20261120" was asked which service; the rest came next."""
    events, dispatcher = await run_form(tracker("我嘅受理号系20261120", "ask_progress"))
    assert SlotSet("case_number", None) in events
    assert "14位数字" in dispatcher.messages[0]["text"]
    events, _ = await run_form(rest_of_the_number("我嘅受理号系20261120", "000158 头先冇打晒"))
    assert SlotSet("case_number", IN_PROGRESS) in events


async def test_a_short_number_without_an_earlier_piece_is_still_explained(hotline: runtime.Hotline) -> None:
    earlier = [{"event": "user", "text": "查进度"}, {"event": "user", "text": "零零零 一五八"}]
    slots = {"requested_slot": "case_number"}
    t = tracker("零零零 一五八", "inform", slots=slots, active_loop="progress_form", events=earlier)
    events, dispatcher = await run_form(t)
    assert SlotSet("case_number", None) in events
    assert "14位数字" in dispatcher.messages[0]["text"]


@pytest.mark.parametrize(("asked", "filled"), [("verify_code", {"case_number": FINISHED}), ("case_number", {})])
async def test_a_materials_question_is_no_answer_to_the_progress_questions(
    hotline: runtime.Hotline, asked: str, filled: dict[str, Any]
) -> None:
    """The sixth blind set: "算了先不查了，我想问一下临时身份证要什么材料" at the last-four question got the question
    again; not an answer, the form steps aside and the rules take the citizen to the service."""
    text = "算了先不查了，我想问一下临时身份证要什么材料"
    service = [{"entity": "service", "value": "临时身份证", "start": 12, "end": 17}]
    slots = {**filled, "requested_slot": asked}
    t = tracker(text, "ask_materials", slots=slots, entities=service, active_loop="progress_form")
    events, dispatcher = await run_form(t)
    assert [event for event in events if event.get("name") == asked] == []
    assert dispatcher.messages == []


async def test_a_progress_question_without_a_number_is_about_the_case_verified_just_before(
    hotline: runtime.Hotline,
) -> None:
    """The tenth blind set's dev half: "你讲多次 而家去到边一步" right after the answer was asked for the number."""
    slots = {"verified_cases": [IN_PROGRESS]}
    t = tracker(
        "你讲多次 而家去到边一步",
        "ask_progress",
        slots=slots,
        active_loop="progress_form",
        latest_action="action_listen",
    )
    events, dispatcher = await run_form(t)
    assert SlotSet("case_number", IN_PROGRESS) in events
    assert SlotSet("verify_code", "已验证") in events
    assert dispatcher.messages == []
    # Another case is asked for by its number.
    t = tracker(
        "仲有另一单点啊", "ask_progress", slots=slots, active_loop="progress_form", latest_action="action_listen"
    )
    events, _ = await run_form(t)
    assert SlotSet("case_number", IN_PROGRESS) not in events


async def test_the_progress_check_put_off_for_another_question_is_no_case_number(hotline: runtime.Hotline) -> None:
    """The tenth blind set's dev half: "算啦进度唔查住 我想问下…要办啲咩证先去得" got 没有听到完整的编号."""
    slots = {"requested_slot": "case_number"}
    text = "算啦进度唔查住 我想问下我从来冇去过澳门 要办啲咩证先去得"
    events, dispatcher = await run_form(tracker(text, "ask_materials", slots=slots, active_loop="progress_form"))
    assert dispatcher.messages == []
    assert not any(e.get("name") == "case_number" and e.get("value") for e in events)
