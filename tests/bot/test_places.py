"""The gazetteer of Guangzhou's places: a place named without its district still finds it."""

from __future__ import annotations

import pytest

from bot.appeals.categories import DISTRICTS
from bot.appeals.extraction import find_district_or_place
from bot.appeals.places import district_of_place, place_named, places


def test_every_place_lies_in_one_of_the_districts_and_none_is_a_district_itself() -> None:
    known = places()
    assert len(known) > 500 and set(known.values()) == set(DISTRICTS)
    assert not {name for name in known if name in DISTRICTS or name + "区" in DISTRICTS}


@pytest.mark.parametrize(
    ("text", "district"),
    [
        # The fifth blind set: each asked "哪个区" of a place every Guangzhou operator knows.
        ("喂 我刚从广州南站出来 出站口那里一堆黑车拉客", "番禺区"),
        ("上周买的，金洲市场进门左边第二档", "南沙区"),
        ("我想提个建议，越秀公园入面啲公厕太少啦", "越秀区"),
        ("今早八点左右从天河客运站开出来那班291路", "天河区"),
        # The longer name of two that begin together decides (中新知识城 is in 黄埔区, 中新镇 in 增城区).
        ("中新知识城那边的路灯坏了", "黄埔区"),
        ("中新镇福和那边村口有人倒垃圾", "增城区"),
        ("我住从化街口街，河滨北路，家门口有个大坑", "从化区"),
    ],
)
def test_a_known_place_gives_its_district(text: str, district: str) -> None:
    assert district_of_place(text) == district


@pytest.mark.parametrize(
    "text",
    [
        "一下雨街口全是污水",
        "路中间有块大石头",
        "新市场门口乱停车",
        "我们小区公园前面的路灯坏了",
        "新塘那边有人乱倒垃圾",
    ],
)
def test_ordinary_words_and_names_in_two_districts_give_no_district(text: str) -> None:
    assert district_of_place(text) is None


@pytest.mark.parametrize(
    ("text", "district"),
    [
        ("五号线杨箕站到珠江新城站那一段", None),  # a stretch across two districts: left to the department
        ("B2路往天河客运站方向石牌桥站", "天河区"),  # two places of one district
    ],
)
def test_places_in_two_districts_give_none(text: str, district: str | None) -> None:
    assert district_of_place(text) == district


def test_a_district_said_wins_over_a_place_of_another() -> None:
    assert find_district_or_place("我在海珠区，刚从广州南站回来") == "海珠区"


def test_the_place_named_is_the_longer_of_two_with_the_side_said_after_it() -> None:
    assert place_named("在黄埔区大沙地东，店门口写的") == "大沙地东"
    assert place_named("中新知识城那边的路灯坏了") == "中新知识城"
    assert place_named("我们楼下的路灯坏了") is None
    assert place_named("你好，增城中新镇福和那边，我们村口的农田边上") == "中新镇福和"  # the fifth blind set
