"""Cantonese function words and spoken fillers read as plain Mandarin before a question is ranked.

A Cantonese question says what it wants in the same nouns as a Mandarin one (社保, 退休金, 驾驶证), but
between them come particles and verbs no catalogue name has (咗, 啲, 嚟, 攞, 喇): joined to the nouns
they make character pairs and jieba cuts that match nothing, or worse, something. General Cantonese
vocabulary (as any Guangzhou caller speaks it), not phrases of any question set. Applied after
``retrieval.CANTONESE``; the catalogue's own texts go through it too, and no name of the Guangdong
catalogue is changed by it (``tests/bot/test_catalog_retrieval.py`` checks the words on real names).
"""

from __future__ import annotations

import re

# Longer words first: a word is replaced before the words inside it.
DIALECT_WORDS: dict[str, str] = {
    # verbs and phrases
    "得唔得": "可不可以",
    "啱唔啱": "符不符合",
    "识唔识": "会不会",
    "收唔收": "收不收",
    "可唔可以": "可不可以",
    "使唔使": "要不要",
    "唔见咗": "丢了",
    "跌咗": "丢了",
    "丢咗": "丢了",
    "搵唔到": "找不到",
    "够钟": "到时间",
    "做嘢": "工作",
    "返工": "上班",
    "搵工": "找工作",
    "屋企": "家",
    "乜嘢": "什么",
    "咩嘢": "什么",
    "乜": "什么",
    "边个": "谁",
    "边间": "哪家",
    "几耐": "多久",
    "几时": "什么时候",
    "点解": "为什么",
    "而家": "现在",
    "琴日": "昨天",
    "听日": "明天",
    "细路": "小孩",
    "老豆": "父亲",
    "老窦": "父亲",
    "攞": "领",
    "摞": "领",
    "搵": "找",
    "揾": "找",
    "俾": "给",
    "嚟": "来",
    "哋": "们",
    "啲": "些",
    "咗": "了",
    "唔": "不",
    "係": "是",
    "咁": "这样",
}
# Sentence-final particles of Cantonese speech: they carry nothing and are dropped.
_PARTICLES = re.compile(r"[喇啦嘞㗎喎啫咋呀噃囖咧]+(?=[\s\W]|$)")


def mandarin(text: str) -> str:
    """``text`` with Cantonese function words in Mandarin and sentence particles dropped."""
    for word, plain in DIALECT_WORDS.items():
        if word in text:
            text = text.replace(word, plain)
    return _PARTICLES.sub("", text)
