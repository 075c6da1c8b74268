"""Digits spoken or typed as Chinese numerals (二零二四, 幺三八) turned into Arabic digits."""

from __future__ import annotations

import re

_DIGIT_OF = {
    "零": "0",
    "〇": "0",
    "洞": "0",
    "一": "1",
    "幺": "1",
    "壹": "1",
    "二": "2",
    "两": "2",
    "贰": "2",
    "三": "3",
    "叁": "3",
    "四": "4",
    "肆": "4",
    "五": "5",
    "伍": "5",
    "六": "6",
    "陆": "6",
    "七": "7",
    "柒": "7",
    "拐": "7",
    "八": "8",
    "捌": "8",
    "九": "9",
    "玖": "9",
    "勾": "9",
}
_DIGIT_OF.update({chr(ord("０") + n): str(n) for n in range(10)})

# Characters that stand for a digit when they occur in a run of digits.
CHINESE_DIGITS = "零〇一幺二两三四五六七八九"
_RUN_CHARS = "0-9０-９" + "".join(_DIGIT_OF)
# A run of digits, allowing the spaces and dashes people type or ASR inserts between groups.
_RUN = re.compile(rf"[{_RUN_CHARS}](?:[\s\-—杠]*[{_RUN_CHARS}])*")


def to_digits(text: str) -> str:
    """Replace every Chinese or full-width digit character of ``text`` by its Arabic digit."""
    return "".join(_DIGIT_OF.get(char, char) for char in text)


# A number said with its units (八千, 两千三百四十五, 八千零一): its value, not its digits one by one.
_NUMERAL = "零〇一二两三四五六七八九十百千"
_UNIT_NUMBER = re.compile(rf"[一二两三四五六七八九][{_NUMERAL}]*[十百千][{_NUMERAL}]*")


def _value_of(match: re.Match[str]) -> str:
    """The value of a number said with units, in Arabic digits (八千 → 8000); the words as they were if it is none."""
    import cn2an  # here, not at import time: it takes most of a second to load, and most commands never need it

    try:
        return str(int(cn2an.cn2an(match.group(), "smart")))
    except (ValueError, KeyError, TypeError):
        return match.group()


# A digit said as how many times it comes (四个一 → 1111, 两个三两个八 → 3388).
_REPEATED_DIGIT = re.compile(r"([一两二三四五六七八九])个([零〇洞一幺二两三四五六七八九0-9])")


def _repeated(match: re.Match[str]) -> str:
    """The digit written out as many times as said."""
    return to_digits(match.group(2)) * int(to_digits(match.group(1)))


def digit_runs(text: str, min_length: int = 1) -> list[str]:
    """The runs of digits in ``text``, as Arabic digits, at least ``min_length`` long.

    Ordinary words that contain a numeral (一下, 第一个) are short runs and fall under
    ``min_length``; spoken numbers such as 二零二六一一二零 become ``20261120``.
    """
    runs = []
    text = _UNIT_NUMBER.sub(_value_of, _REPEATED_DIGIT.sub(_repeated, text))
    for match in _RUN.finditer(text):
        digits = re.sub(r"[\s\-—杠]", "", to_digits(match.group()))
        if digits.isdigit() and len(digits) >= min_length:
            runs.append(digits)
    return runs
