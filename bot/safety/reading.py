"""How the safety check reads a message: common typos of its words mended, Cantonese read as Mandarin.

The word lists (``danger``) match the message as written and as read; the model (``model``) learns from
messages as read, so that 安眠要 and 安眠药, 佢喺天台 and 他在天台 are one thing to both.
"""

from __future__ import annotations

from bot.catalog.dialect import mandarin

# Typos of the words the safety check listens for (homophones, pinyin), and what they mean.
_TYPOS = {
    "安眠要": "安眠药",
    "手碗": "手腕",
    "血一直留": "血一直流",
    "燃期": "燃气",
    "煤汽": "煤气",
    "着伙": "着火",
    "不想或": "不想活",
    "一了白了": "一了百了",
    "累追": "累赘",
    "准被": "准备",
    "车货": "车祸",
    "想si": "想死",
    "生名": "生命",
    "浪废": "浪费",
    "老攻": "老公",
}
_CANTONESE = {"佢": "他", "喺": "在", "冇": "没", "嘅": "的", "企": "站", "啱啱": "刚刚", "食": "吃", "樽": "瓶"}


def read_as_plain(words: str) -> str:
    """The message with the typos above mended and Cantonese words read as Mandarin."""
    for table in (_TYPOS, _CANTONESE):
        for word, plain in table.items():
            words = words.replace(word, plain)
    return mandarin(words)
