"""Spoken digits and picking among offered choices."""

from __future__ import annotations

import pytest

from bot.catalog.choices import pick_choice
from bot.core.numerals import digit_runs, to_digits


def test_spoken_digits_become_arabic() -> None:
    assert to_digits("二零二六幺幺两零") == "20261120"


def test_digit_runs_ignore_words_that_contain_numerals() -> None:
    assert digit_runs("我想查一下第一个办件 编号二零二六一一二零零零零一五八", min_length=10) == ["20261120000158"]
    assert digit_runs("2026 1120-000158", min_length=14) == ["20261120000158"]


OPTIONS = ["首次申领", "换发", "补发"]


@pytest.mark.parametrize(
    ("said", "index"),
    [("1", 0), ("二", 1), ("第三个", 2), ("选第2个", 1), ("补发吧", 2), ("最后一个", 2), ("首次申领", 0)],
)
def test_choice_by_number_ordinal_or_words(said: str, index: int) -> None:
    assert pick_choice(said, OPTIONS) == index


@pytest.mark.parametrize("said", ["5", "随便", "", "发"])
def test_no_choice_when_unclear(said: str) -> None:
    assert pick_choice(said, OPTIONS) is None


def test_terminal_chat_sends_the_payload_of_a_typed_button_number() -> None:
    from bot.cli.chat import chosen_payload, render

    buttons = [{"title": "1. 首次申领", "payload": "首次申领"}, {"title": "2. 换发", "payload": "换发"}]
    assert chosen_payload("2", buttons) == "换发"
    assert chosen_payload("3", buttons) == "3"
    assert chosen_payload("护照", buttons) == "护照"
    assert render({"custom": {"kind": "materials"}}) == ""


@pytest.mark.parametrize(
    ("said", "runs"),
    [
        ("八千", ["8000"]),  # the last four digits said as a number
        ("尾号八千零一", ["8001"]),
        ("两千三百四十五", ["2345"]),
        ("幺三八 零零幺三 八零零零", ["13800138000"]),
        ("2026 1001 0007 77", ["20261001000777"]),
        ("2026-1001-000777", ["20261001000777"]),
        ("第一个", ["1"]),
        # A digit said as how many times it comes (四个一: the seventh blind set's last four digits).
        ("他手机后面是四个一", ["1111"]),
        ("尾号两个三两个八", ["3388"]),
        ("三个人", ["3"]),
    ],
)
def test_numbers_said_with_units_spaces_or_dashes(said: str, runs: list[str]) -> None:
    assert digit_runs(said) == runs
