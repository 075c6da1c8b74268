"""Turning the bot's written answers into what the phone reads aloud, in short Mandarin sentences."""

from __future__ import annotations

import re

from bot.core.personal_data import mask_text

_DIGITS = "零幺二三四五六七八九"
_LONG_NUMBER = re.compile(r"(?<![\d.])\d{4,}(?![\d.])")
_MASKED_PHONE = re.compile(r"1\d{2}\*{4}(\d{4})")
_MASKED_ID = re.compile(r"\d{6}\*{8}(\d{3}[\dXx])")
_URL = re.compile(r"https?://\S+")
_BULLET = re.compile(r"^\s*(?:[-•·*]|\d+[.、)])\s*", re.MULTILINE)


def digit_by_digit(number: str) -> str:
    """``20261120`` → "二零二六 幺幺二零": each digit, in groups of four."""
    spoken = "".join(_DIGITS[int(d)] for d in number)
    return " ".join(spoken[i : i + 4] for i in range(0, len(spoken), 4))


def speakable(text: str) -> str:
    """A text as the phone should read it: no symbols, personal data only as tails, long numbers digit by digit."""
    text = mask_text(text)
    text = _MASKED_PHONE.sub(lambda m: "尾号" + digit_by_digit(m.group(1)), text)
    text = _MASKED_ID.sub(lambda m: "身份证尾号" + digit_by_digit(m.group(1)), text)
    text = _URL.sub("网上办事大厅", text)
    text = re.sub(r"WO(?=\d)", "工单 ", text)
    text = _LONG_NUMBER.sub(lambda m: digit_by_digit(m.group(0)), text)
    text = _BULLET.sub("", text)
    text = re.sub(r"[【】「」《》\[\]*#|]", "", text)
    text = re.sub(r"\s*\n+\s*", "。", text.strip())
    text = re.sub(r"([。！？；，])[。，]+", r"\1", text)
    return text.strip("。 ") + "。" if text.strip("。 ") else ""


def spoken_choices(titles: list[str]) -> str:
    """Choices to listen to: "您可以说“在哪里办理”，或按1；说“转人工”，或按2。"."""
    if not titles:
        return ""
    options = [f"说“{title}”，或按{n}" for n, title in enumerate(titles, 1)]
    return "您可以" + "；".join(options) + "。"
