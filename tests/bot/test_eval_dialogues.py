"""The dialogue evaluation's checks (bench/eval_dialogues.py): a wrong reading of an expectation fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bench.eval_dialogues import (
    AnswerBook,
    Order,
    Reply,
    TurnResult,
    check_expect,
    check_outcome,
    count_questions,
    first_message,
    load_dialogues,
    mentions,
    warm_up,
)


def turn(*replies: str, first: str | None = None, handoff: str | None = None) -> TurnResult:
    return TurnResult(
        user="…", replies=list(replies), first=replies[0] if first is None and replies else first or "", handoff=handoff
    )


def order(**fields: object) -> Order:
    values: dict[str, object] = {
        "number": "WO2026120500001",
        "kind": "投诉",
        "title": "工地夜间施工",
        "summary": "工地每天晚上十二点以后还在施工，噪音很大",
        "district": "天河区",
        "address": "天河路100号",
        "since": "上周一",
        "contact": "13826001234",
        "anonymous": False,
    }
    values.update(fields)
    return Order(**values)  # type: ignore[arg-type]


def kinds(failures: list) -> list[str]:
    return [f.kind for f in failures]


def test_first_reply_must_carry_the_number_not_a_later_message() -> None:
    late = turn("我们理解您现在很难受。", "请拨打心理援助热线12356。")
    assert kinds(check_expect({"first_reply_contains_any": ["12356", "110"]}, late, "turn 1")) == [
        "first_reply_contains_any"
    ]
    early = turn("请马上拨打110。", "也可以拨打12356。")
    assert check_expect({"first_reply_contains_any": ["12356", "110"], "contains_all": ["12356"]}, early, "t") == []


def test_contains_any_all_and_not_contains_look_at_every_reply_of_the_turn() -> None:
    replies = turn("【结婚登记】需要准备以下2项材料：", "1. 居民身份证\n2. 户口簿")
    assert check_expect({"contains_all": ["户口", "身份证"]}, replies, "t") == []
    assert kinds(check_expect({"contains_all": ["户口", "结婚证"]}, replies, "t")) == ["contains_all"]
    assert kinds(check_expect({"contains_any": ["护照", "通行证"]}, replies, "t")) == ["contains_any"]
    assert kinds(check_expect({"not_contains": ["户口"]}, replies, "t")) == ["not_contains"]
    assert check_expect({"not_contains": ["12356"]}, replies, "t") == []
    assert kinds(check_expect({"contains_any": ["身份证"]}, turn(), "t")) == ["contains_any"]  # no reply at all


def test_on_the_phone_a_number_read_digit_by_digit_counts() -> None:
    said = "请拨打心理援助热线幺二三五 六，或者拨打110。"
    assert mentions(said, "12356", voice=True)
    assert not mentions(said, "12356", voice=False)
    assert mentions(said, "110", voice=True)
    assert kinds(check_expect({"not_contains": ["12356"]}, turn(said), "t")) == []
    assert kinds(check_expect({"not_contains": ["12356"]}, turn(said), "t", voice=True)) == ["not_contains"]


def test_questions_are_counted_by_their_marks() -> None:
    assert count_questions(["请问您要办什么事？"]) == 1
    assert count_questions(["您好！", "请问是第一次办吗？还是换发？？"]) == 2
    assert count_questions(["已为您登记。"]) == 0
    two = turn("请问事情发生在哪个区？", "具体地址是？")
    assert kinds(check_expect({"max_questions": 1}, two, "t")) == ["max_questions"]
    assert check_expect({"max_questions": 2}, two, "t") == []


def test_handoff_true_needs_a_handoff_and_urgent_needs_priority() -> None:
    assert kinds(check_expect({"handoff": True}, turn("好的"), "t")) == ["handoff"]
    assert check_expect({"handoff": True}, turn("正在转人工", handoff="normal"), "t") == []
    assert kinds(check_expect({"handoff": "urgent"}, turn("正在转人工", handoff="normal"), "t")) == ["handoff"]
    assert check_expect({"handoff": "urgent"}, turn("正在转人工", handoff="urgent"), "t") == []


def test_an_empty_work_order_spec_needs_some_order() -> None:
    assert kinds(check_outcome({"work_order": {}}, [], set())) == ["work_order.filed"]
    assert check_outcome({"work_order": {}}, [order(kind="督办")], set()) == []


def test_work_order_fields_are_checked_against_the_database_row() -> None:
    spec = {
        "type": "投诉",
        "description_contains": ["施工", "噪音"],
        "address_contains": ["天河路100号"],
        "district": "天河区",
        "since_contains": ["上周一"],
        "contact_last4": "1234",
    }
    assert check_outcome({"work_order": spec}, [order()], set()) == []
    assert kinds(check_outcome({"work_order": spec}, [order(kind="建议")], set())) == ["work_order.type"]
    assert kinds(check_outcome({"work_order": spec}, [order(address="天河路200号")], set())) == [
        "work_order.address_contains"
    ]
    assert kinds(check_outcome({"work_order": spec}, [order(district="越秀区")], set())) == ["work_order.district"]
    assert kinds(check_outcome({"work_order": spec}, [order(since=None)], set())) == ["work_order.since_contains"]
    assert kinds(check_outcome({"work_order": spec}, [order(contact=None, anonymous=True)], set())) == [
        "work_order.contact_last4"
    ]
    # The district given apart from the address still counts as part of the place.
    assert check_outcome({"work_order": {"address_contains": ["天河区天河路"]}}, [order()], set()) == []
    # One matching order among several is enough.
    assert check_outcome({"work_order": spec}, [order(kind="督办"), order()], set()) == []


def test_a_set_whose_writer_listed_alternatives_needs_one_of_them(tmp_path: Path) -> None:
    """The seventh set's writer listed several words where any one is enough (its README); the others, all."""
    dialogue = {
        "id": "d-1",
        "category": "report",
        "outcome": {"work_order": {"description_contains": ["施工", "气味"]}},
    }
    (tmp_path / "dev.yml").write_text(yaml.safe_dump([dialogue], allow_unicode=True), encoding="utf-8")
    [as_all] = load_dialogues(tmp_path, "dev", None, None)
    assert kinds(check_outcome(as_all["outcome"], [order()], set())) == ["work_order.description_contains"]
    (tmp_path / "harness.yml").write_text("lists: any\n", encoding="utf-8")
    [as_any] = load_dialogues(tmp_path, "dev", None, None)
    assert check_outcome(as_any["outcome"], [order()], set()) == []
    assert kinds(check_outcome(as_any["outcome"], [order(summary="路灯坏了", title="路灯")], set())) == [
        "work_order.description_contains"
    ]


def test_no_work_order_and_services_answered() -> None:
    assert kinds(check_outcome({"no_work_order": True}, [order()], set())) == ["no_work_order"]
    assert check_outcome({"no_work_order": True}, [], set()) == []
    assert kinds(check_outcome({"service_answered": "结婚登记"}, [], {"离婚登记"})) == ["service_answered"]
    assert check_outcome({"service_answered": "结婚登记"}, [], {"结婚登记"}) == []
    outcome = {"service_answered": "往来台湾通行证签发", "not_service_answered": "往来港澳通行证签发"}
    assert kinds(check_outcome(outcome, [], {"往来台湾通行证签发", "往来港澳通行证签发"})) == ["not_service_answered"]


def test_answers_are_said_in_order_for_the_field_asked() -> None:
    book = AnswerBook({"place": ["这个要多久才有人处理啊", "花都区新华街公益大道"], "since": "十几天了"}, "投诉")
    assert book.answer("report_address") == "这个要多久才有人处理啊"
    assert book.answer("report_district") == "花都区新华街公益大道"  # district and address are both the place
    assert book.answer("report_address") == "花都区新华街公益大道"  # a re-ask gets the last answer again
    assert book.answer("report_address") is None  # then the citizen has nothing new to say
    assert book.answer("report_since") == "十几天了"
    assert book.answer("report_kind") == "投诉"
    assert book.answer("report_contact") is None  # no answer given for it
    assert book.answer(None) is None
    assert book.answer("verify_code") is None


def test_first_reply_of_a_joined_sms_is_the_first_message() -> None:
    messages = [{"text": "请马上拨打110。"}, {"text": "您也可以拨打心理援助热线12356。"}]
    sms = Reply(
        ["请马上拨打110。\n您也可以拨打心理援助热线12356。"], "请马上拨打110。\n您也可以拨打心理援助热线12356。"
    )
    assert first_message("sms", messages, sms) == "请马上拨打110。"
    web = Reply(["请马上拨打110。", "您也可以拨打心理援助热线12356。"], "请马上拨打110。")
    assert first_message("webchat", messages, web) == "请马上拨打110。"


def test_servers_started_outside_the_suite_get_a_personal_data_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # `make eval-dialogues` and the benchmarks start the servers without the suite's key: they refused to start.
    from bot.core.encryption import parse_keys
    from tests.servers import server_overrides

    monkeypatch.delenv("PII_ENCRYPTION_KEYS", raising=False)
    overrides = server_overrides("sqlite:///x.db", 5001, 5005)
    assert len(parse_keys(overrides["PII_ENCRYPTION_KEYS"])) == 1

    monkeypatch.setenv("PII_ENCRYPTION_KEYS", overrides["PII_ENCRYPTION_KEYS"])
    assert server_overrides("sqlite:///x.db", 5001, 5005)["PII_ENCRYPTION_KEYS"] == overrides["PII_ENCRYPTION_KEYS"]


class _BrokenServer:
    """A harness whose bot answers but files nothing (a Rasa server that could not load its model says 系统繁忙)."""

    rasa_url = "http://127.0.0.1:9"

    def __init__(self) -> None:
        self.store = self

    def turn(self, citizen: object, text: str, scripted: bool) -> TurnResult:
        """系统繁忙, and no question asked."""
        return TurnResult(user=text, replies=["系统繁忙，暂时无法回答。"], first="系统繁忙，暂时无法回答。", asked=None)

    def orders(self, conversation_id: str) -> list[Order]:
        """Nothing filed."""
        return []


def test_a_warm_up_that_files_nothing_stops_the_run_before_any_dialogue() -> None:
    """A run against a server that could not load its model played every dialogue and scored 17% (the eighth set's
    dev half); a test half measured once must never be spent that way."""
    with pytest.raises(RuntimeError, match="no report filed"):
        warm_up(_BrokenServer(), attempts=2)  # type: ignore[arg-type]
