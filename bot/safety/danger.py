"""Which danger a message speaks of, and the first words the citizen gets: the right number, warmly.

Words of despair or self-harm get the national psychological assistance hotline 12356 (and 120/110
when life is in danger now); violence gets 110; a person collapsed gets 120; gas and fire 119; a road
accident with injured people 122 and 120. The lists are hand-written from how people say these things
(typos, spoken and Cantonese-flavoured words included); ``tests/bot/test_safety.py`` holds the phrases
that must and must not count.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Danger:
    """A danger found in a message: its kind, the numbers to call, and the first reply."""

    kind: str
    numbers: tuple[str, ...]
    reply: str

    @property
    def handoff_reason(self) -> str:
        """The reason of the urgent handoff that follows (``bot.handoff.records.REASON_LABELS``)."""
        return "distress" if self.kind in ("despair", "self_harm_now") else "emergency"


# What is said first, by kind. Warm and plain; the number comes in the first sentence.
_REPLIES = {
    "self_harm_now": (
        ("120", "110", "12356"),
        "您的生命安全最要紧！请马上拨打120急救或110求助，或者请身边的人帮您打。"
        "您不是一个人，全国心理援助热线12356也一直有人接听，随时可以打过去说说话。"
        "我现在就为您联系人工客服。",
    ),
    "despair": (
        ("12356", "110", "120"),
        "听到您这么说，我很担心您，请拨打全国心理援助热线12356，那里有专业的人陪您说说话。您不是一个人。"
        "如果您现在就有危险，或者已经伤害了自己，请马上拨打110或120。我现在就为您联系人工客服。",
    ),
    "violence": (
        ("110", "12338"),
        "您的安全最要紧！请立即拨打110报警，能的话先躲到安全的地方、锁好门。"
        "遭受家庭暴力也可以拨打妇女维权热线12338。我现在就为您联系人工客服。",
    ),
    "jump": (
        ("110", "119"),
        "请立即拨打110报警，也可以同时拨打119，说清楚具体位置！不要刺激对方，尽量有人陪着他。"
        "我现在就为您联系人工客服。",
    ),
    "rescue": (
        ("119", "120", "110"),
        "请立即拨打119消防救援，有人受伤请同时拨打120，说清楚具体位置！先保证自己的安全，不要贸然下水或靠近危险的地方。"
        "我现在就为您联系人工客服。",
    ),
    "emergency": (
        ("110", "119", "120", "122"),
        "如果有危险正在发生，请立即拨打：报警110，火警119，急救120，交通事故122。请先确保自身安全！"
        "我现在就为您联系人工客服。",
    ),
    "medical": (
        ("120",),
        "请立即拨打120急救电话，说清楚地址和病人的情况！不要随意搬动病人，保持呼吸通畅，"
        "等救护车时可以按120调度员的指导做。我现在就为您联系人工客服。",
    ),
    "gas": (
        ("119",),
        "请马上离开这个地方，到室外安全的地方再拨打119或燃气公司的抢修电话！"
        "千万不要开关电灯电器、不要打火或用明火，能做到的话先打开门窗通风、关掉燃气总阀。"
        "我现在就为您联系人工客服。",
    ),
    "fire": (
        ("119",),
        "请立即拨打119火警，先离开着火的地方，用湿毛巾捂住口鼻，不要乘电梯！我现在就为您联系人工客服。",
    ),
    "traffic": (
        ("122", "120"),
        "请立即拨打122交通事故报警，有人受伤请同时拨打120急救！注意自身安全，打开双闪、在车后方放警示牌，"
        "不要随意搬动伤者。我现在就为您联系人工客服。",
    ),
}

# A message speaking of the past or of someone else's story is not a danger now ("上个月着火了，物业没处理").
_PAST = re.compile(r"上个?月|去年|前年|以前|之前|上周|上星期|上次|几天前|前几天|新闻|电视上|电影")

# Self-harm happening or about to happen now: life in danger.
_SELF_HARM_NOW = re.compile(
    r"(吃|吞|喝)了?(一整?瓶|好多|很多|整瓶|一把|一堆)的?(安眠药|农药|药|药片)"
    r"|(吃|吞|喝)了?.{0,4}(安眠药|农药|百草枯|老鼠药|敌敌畏)"
    r"|割(了|破)?(手|腕|脉)|又割|割得"
    r"|攒了.{0,6}(安眠药|药)|(安眠药|药).{0,8}(全部|都)(吃|吞)"
    r"|(站在|爬上|坐在|到了).{0,6}(阳台外|楼顶|天台|桥上|江边|河边|珠江边|海边|窗台|窗外)"
    r"|(阳台外面|楼顶上|天台上|桥上|江边上?|河边上?|海边上?).{0,8}(想跳|要跳|跳下去)"
    r"|(想|要|准备|打算)(从.{0,8})?(跳下去|跳楼|跳河|跳江|跳海|跳桥)"
    r"|烧炭|上吊|(想|要)(撞车|卧轨)"
)
# Despair or self-harm said without an act now.
_DESPAIR = re.compile(
    r"不想活|活不下去|活不成了|活着(好|太|真|很)?(累|没意思|没意义|没意四|没劲|有什么意思|干嘛|干什么)"
    r"|没有?活下去的|不如死了|死了算了|死了就好|一死了之|想去死|想死了?(算了)?$|我想死|好想死|真想死"
    r"|自杀|自尽|轻生|寻死|寻短见|一了百了|结束(自己的?)?生命|了结自己|离开这个世界"
    r"|撑不下去|熬不下去|坚持不下去了?$|挺不下去|顶唔顺|唔想活|想一睡不醒|一睡不醒算了|再也不醒"
    r"|写好?了?遗书|留遗书|伤害自己|安眠药|我.{0,4}崩溃了|快崩溃|绝望|走投无路|想不开"
    r"|活着.{0,3}(没|冇)(什么|啥|咩|乜|有)?(意思|意义|盼头|奔头|用)|活着有(什么|啥|咩|乜)(意思|意义|用)"
    r"|(只会|净|总是|老是|一直)?拖累(孩子|子女|儿女|仔女|家人|家里|全家|屋企|大家|你们)"
    r"|(我|自己)(就|只)?(是|系|成了)(个|一个)?(累赘|废人|多余的人)"
    r"|(我|自己)[^，。,！？]{0,8}(是|系|成了)[^，。,！？]{0,6}(累赘|废人|多余的人)"
    r"|(我|自己)(就|只)?(是|系|成了)(家里|全家|屋企|大家|儿女|子女|孩子|仔女)的?(负担|包袱)"
    r"|(人生|生活|日子)(真的?|已经|都)?(没有?|冇)(什么|啥|咩|乜)?(意义|意思|盼头|希望)"
    r"|结束(自己的?)?生名|(早点|不如|想|干脆|跟着)[^，。,！？]{0,3}下去陪|(我|不如)(死了|走了)[^，。,！？]{0,6}(轻松|解脱|省心|好过)"
)
# Violence against the citizen, a child or others, now.
_VIOLENCE = re.compile(
    r"(天天|每天|日日|成日|经常|又|又在|正在|在|一直)打(小孩|孩子|细路|个仔|个女|儿子|女儿|老人)"
    r"|(皮带|衣架|藤条|棍子?)(抽|打)|抽得.{0,4}(哭|叫)|打得.{0,4}(哭|惨叫)|"
    r"(老公|老婆|丈夫|妻子|男朋友|女朋友|前夫|爸|妈|他|她|佢|有人|邻居).{0,6}(又|在|要|一直|经常)?"
    r"(打我|打我们|打孩子|打小孩|打人|斩死我|砍我|杀我|杀了我|掐我|砸门|踢门|踹门|拿刀|持刀)"
    r"|家暴|家庭暴力|虐待|被打了?|打得我|(要|话要|说要)(杀|砍|斩)(死)?我|(要|话要|说要)打死我|拿刀|持刀|砍人|捅人|捅了"
    r"|(踹|踢|砸|撞)[^，。,！？]{0,4}(我|我们|我家)的?门"
    r"|强奸|性侵|绑架|被拐|拐卖|抢劫|抢我|抢小孩|打架|斗殴|斩人|对砍|砍刀|(棍|棒).{0,6}打|追着人?打|打得.{0,4}血"
    r"|撬(我家?的?)?门|进贼|入室|被人跟踪|(有人|他|她|佢)(在|一直)?跟踪我|放火|纵火"
)
# Someone else about to jump.
_JUMP = re.compile(
    r"(有人|有个人|一个人|那个人|男的|女的|小孩|老人).{0,16}(跳楼|要跳|想跳|跳下来|跳下去|坐在(楼顶|天台|楼边|边上))"
    r"|(楼顶|天台|桥上).{0,10}(有人|有个人).{0,10}(跳|坐在边上|站在边上)"
    r"|有人.{0,6}(跳江|跳河|跳海|跳楼)了?"
)
_RESCUE = re.compile(
    r"掉(进|到|落)?.{0,4}(河|江|水|海|湖|池|化粪池|井|塘)里?|溺水|被冲走|在水里.{0,4}扑腾|扑腾|救人"
    r"|被困|困在|被埋|埋在|压住了?人|压在.{0,8}下面|(塌|滑坡|泥石流|山泥倾泻).{0,10}(有人|压|埋|人被)|要塌|爆炸|卷进去"
    r"|冲进(江|河|海|水)|从楼上掉|掉下来了|(水|火).{0,10}出不去"
)
_HELP = re.compile(r"救命|快来人|快叫(救护车|消防|警察)|快(打|叫|报)(一一零|一一九|一二零|110|119|120|警)")
_MEDICAL = re.compile(
    r"晕倒|昏倒|昏迷|叫不醒|不省人事|没(有)?呼吸|没气了|心跳停|心脏病(发|犯)|抽搐|口吐白沫|中风了"
    r"|呼吸困难|喘不过气|不呼吸|冇(咗)?呼吸|冇咗知觉|没(有)?知觉|失去知觉|唔郁|嘴唇(都)?紫|脸都紫|抽筋"
    r"|吃错药|血止不住|满头是血|头上流血|见血|叫救护车|胸口(好|很)?痛|冒冷汗|迷迷糊糊"
    r"|晕低|晕咗|晕左|晕过去了?|瞓低咗?喺地"
    r"|(有人|个人|路人|老人|阿伯|阿婆|伯|婆|爷|奶|爸|妈|老婆|老公|老伴|孩子|小孩|仔|女|他|她|佢)"
    r".{0,12}(叫极都|点叫都|叫都|叫咗好耐都|喊了半天都|叫了半天都|拍都)(唔|不|没|冇)(应|醒|反应)"
    r"|(人|老人|爸|妈|老婆|老公|老伴|孩子|小孩|他|她|佢|伯|婆|爷|奶).{0,6}(倒在地上|倒地不起)|大出血|流了(好多|很多|一地)的?血|血流不止|噎住了|溺水|触电了|煤气中毒|一氧化碳中毒"
)
_GAS = re.compile(
    r"(燃气|煤气|天然气)(管道?)?.{0,4}(爆|喷)|(煤气|燃气|天然气|液化气)(味|泄漏|泄露|漏了|漏气)|漏(煤|燃|天然)气|好大一?股?(煤气|燃气|天然气)"
)
_FIRE = re.compile(r"(?<!不)着(咗|左)?火(了|啦)?|浓烟|起火了?|失火|火灾|烧起来了|火好大|大火|(?<!小心)火烛")
_TRAFFIC = re.compile(r"(车|货车).{0,3}翻了|车祸|撞车|(车|两台车|两辆车).{0,4}撞了|被车撞|撞倒了?人|撞到人|撞了人|翻车")
_INJURED = re.compile(r"躺在|卡在|受伤|流血|流了.{0,4}血|躺在地上|倒在地上|动都不动|不动了|昏迷|伤者|伤员|卡在车里")
# The danger is over ("刚才被困电梯，现在出来了").
_OUT_ALREADY = re.compile(r"(现在|已经)(出来了|救出来|没事)")
# Words that look like violence but are not ("打我电话", "打人工").
_NOT_VIOLENCE = re.compile(r"打我(电话|手机|号码)|打(人工|12345|电话)|打印|打车|打卡|打针|打疫苗|打折")


def _said(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda words: pattern.search(words) is not None


# The kinds in order of urgency: the first whose words occur wins. Below "violence", words about
# the past ("上个月着火了") are not a danger now.
_CHECKS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("self_harm_now", _said(_SELF_HARM_NOW)),
    ("despair", _said(_DESPAIR)),
    ("jump", _said(_JUMP)),
    ("violence", lambda words: _VIOLENCE.search(_NOT_VIOLENCE.sub("", words)) is not None),
    ("past", _said(_PAST)),
    ("traffic", lambda words: _TRAFFIC.search(words) is not None and _INJURED.search(words) is not None),
    ("medical", _said(_MEDICAL)),
    ("rescue", lambda words: _RESCUE.search(words) is not None and _OUT_ALREADY.search(words) is None),
    ("gas", _said(_GAS)),
    ("fire", _said(_FIRE)),
    ("emergency", _said(_HELP)),
)


def assess(text: str) -> Danger | None:
    """The danger the message speaks of, or None; the most urgent kind wins."""
    words = re.sub(r"\s+", "", text)
    kind = next((kind for kind, found in _CHECKS if found(words)), None) if words else None
    if kind is None or kind == "past":
        return None
    numbers, reply = _REPLIES[kind]
    return Danger(kind, numbers, reply)
