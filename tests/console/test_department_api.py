"""The department API's pieces: the key header, bodies, fields, and what an order shows of the citizen."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest

from bot.core.clock import china, in_utc
from bot.work_orders.department_keys import Caller
from bot.work_orders.lifecycle import OrderDetail, OrderEvent, OrderNote
from console.department_api import (
    MAX_BODY_BYTES,
    ApiError,
    actor_of,
    bearer_key,
    extension_days,
    json_object,
    order_document,
    order_summary,
    requested_states,
    text_field,
)

NOW = china(2026, 11, 28, 9, 0)
ORDER = OrderDetail(
    number="WO2026112800001",
    type="投诉",
    title="小区电梯经常停运",
    summary="天河区某小区3号楼电梯一周停了三次，老人上下楼很困难。",
    category=("城乡建设", "住房保障与房地产", "物业服务"),
    district="天河区",
    address="天河区龙口西路某小区3号楼",
    latitude=None,
    longitude=None,
    since="一周前",
    urgency="normal",
    anonymous=False,
    contact_phone="13912345678",
    state="办理中",
    department="广州市天河区住房和城乡建设局",
    source="conversation",
    channel="webchat",
    created_at=china(2026, 11, 25, 10, 0),
    due_at=china(2026, 11, 27, 23, 59, 59),
    accepted_at=china(2026, 11, 25, 11, 0),
    closed_at=None,
    escalated_at=None,
    duplicate_of=None,
    reopened=0,
    reply=None,
    solved=None,
    satisfaction=None,
    events=(OrderEvent(china(2026, 11, 25, 10, 0), "12345热线", "file", None, "已受理", None, ""),),
    notes=(OrderNote(china(2026, 11, 26, 9, 0), "物业科", "progress", "已联系物业公司检修"),),
)


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("BEARER abc", "abc"),
        (None, None),
        ("", None),
        ("Bearer", None),
        ("Bearer   ", None),
        ("Basic abc", None),
        ("abc", None),
    ],
)
def test_the_key_comes_only_from_a_bearer_header(header: str | None, key: str | None) -> None:
    assert bearer_key(header) == key


def test_bodies_are_json_objects_of_limited_size() -> None:
    assert json_object(b"") == {}
    assert json_object(b"  ") == {}
    assert json_object('{"text": "已派人处理"}'.encode()) == {"text": "已派人处理"}
    for raw, message in [
        (b"{not json", "不是有效的JSON"),
        (b"\xff\xfe", "不是有效的JSON"),
        (b"[1, 2]", "应是JSON对象"),
        (b'"text"', "应是JSON对象"),
    ]:
        with pytest.raises(ApiError) as refused:
            json_object(raw)
        assert (refused.value.status, message in refused.value.message) == (400, True)
    with pytest.raises(ApiError) as too_large:
        json_object(json.dumps({"text": "x" * MAX_BODY_BYTES}).encode())
    assert too_large.value.status == 413


@pytest.mark.parametrize("value", [None, "", "   ", 5, ["a"], "字" * 2001])
def test_text_fields_must_be_non_empty_and_short_enough(value: Any) -> None:
    with pytest.raises(ApiError) as refused:
        text_field({"reply": value}, "reply", "答复市民的内容")
    assert refused.value.status == 400
    assert "reply" in refused.value.message


def test_text_fields_are_trimmed() -> None:
    assert text_field({"text": "  已约物业周五检修 \n"}, "text", "办理进展") == "已约物业周五检修"


@pytest.mark.parametrize("days", [None, 0, -1, 31, 2.5, "3", True])
def test_extensions_are_whole_working_days_within_limits(days: Any) -> None:
    with pytest.raises(ApiError) as refused:
        extension_days({"days": days})
    assert refused.value.status == 400
    assert extension_days({"days": 30}) == 30 and extension_days({"days": 1}) == 1


def test_states_are_checked_and_may_be_repeated_or_comma_separated() -> None:
    assert requested_states([]) is None
    assert requested_states([""]) is None
    assert requested_states(["办理中,延期", "督办"]) == ["办理中", "延期", "督办"]
    with pytest.raises(ApiError) as refused:
        requested_states(["办理中", "处理中"])
    assert refused.value.status == 400 and "处理中" in refused.value.message


def test_a_list_shows_what_the_work_needs_and_masks_the_phone() -> None:
    assert order_summary(ORDER, NOW) == {
        "number": "WO2026112800001",
        "type": "投诉",
        "title": "小区电梯经常停运",
        "category": ["城乡建设", "住房保障与房地产", "物业服务"],
        "district": "天河区",
        "address": "天河区龙口西路某小区3号楼",
        "state": "办理中",
        "urgency": "normal",
        "due_at": "2026-11-27T23:59:59+08:00",
        "overdue": True,
        "created_at": "2026-11-25T10:00:00+08:00",
        "contact_phone": "139****5678",
    }
    assert order_summary(dataclasses.replace(ORDER, state="已办结"), NOW)["overdue"] is False


def test_the_detail_gives_the_phone_the_trail_and_the_notes() -> None:
    document = order_document(ORDER, NOW)
    assert document["contact_phone"] == "13912345678"
    assert document["summary"].startswith("天河区某小区3号楼电梯")
    assert document["events"] == [
        {
            "at": "2026-11-25T10:00:00+08:00",
            "actor": "12345热线",
            "action": "file",
            "from_state": None,
            "to_state": "已受理",
            "reason": "",
        }
    ]
    assert document["notes"] == [
        {"at": "2026-11-26T09:00:00+08:00", "author": "物业科", "kind": "progress", "text": "已联系物业公司检修"}
    ]


def test_times_are_given_in_china_time_as_read_back_in_utc_from_the_database() -> None:
    stored = dataclasses.replace(
        ORDER,
        created_at=in_utc(ORDER.created_at),
        due_at=in_utc(ORDER.due_at),
        accepted_at=in_utc(china(2026, 11, 26, 0, 30)),  # 16:30 UTC on the 25th
        events=tuple(dataclasses.replace(event, at=in_utc(event.at)) for event in ORDER.events),
    )
    assert stored.due_at.utcoffset() == timedelta(0)
    document = order_document(stored, in_utc(NOW))
    assert (document["created_at"], document["due_at"], document["accepted_at"]) == (
        "2026-11-25T10:00:00+08:00",
        "2026-11-27T23:59:59+08:00",
        "2026-11-26T00:30:00+08:00",
    )
    assert document["events"][0]["at"] == "2026-11-25T10:00:00+08:00"
    assert document["overdue"] is True


def test_an_anonymous_citizens_phone_is_never_given() -> None:
    anonymous = dataclasses.replace(ORDER, anonymous=True)
    assert order_summary(anonymous, NOW)["contact_phone"] is None
    assert order_document(anonymous, NOW)["contact_phone"] is None
    assert "13912345678" not in json.dumps(order_document(anonymous, NOW), ensure_ascii=False)
    no_phone = dataclasses.replace(ORDER, contact_phone=None)
    assert order_summary(no_phone, NOW)["contact_phone"] is None
    assert order_document(no_phone, NOW)["contact_phone"] is None


def test_the_audit_trail_names_the_department_and_key_id() -> None:
    assert actor_of(Caller(7, "广州市天河区住房和城乡建设局")) == "广州市天河区住房和城乡建设局（接口密钥7）"
