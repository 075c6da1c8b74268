"""Reading a citizen's appeal in their own words: what it says, where, since when, and their answers about it.

Pure functions over Chinese text: the district (天河 → 天河区), a road or estate, a time expression
(三天了, 上周开始), danger words, a title, and the short answers of the report's questions (不知道, 匿名,
好的, 换一个号码, 地址不对是…).
"""

from __future__ import annotations

import re

from bot.appeals.categories import DISTRICTS
from bot.appeals.places import district_of_place, place_named, place_names, places
from bot.core.corrections import said_after_correction

# A description says something with at least this many Chinese characters besides the words of
# INTENT_WORDS; a title is the first clause that does.
MIN_DESCRIPTION = 4
MAX_ADDRESS = 200
TITLE_LENGTH = 20
# Phrases that only name the kind of report ("I want to complain"); longest first.
REQUEST_PHRASES = (
    "我有一个建议",
    "我想提个建议",
    "我要提建议",
    "我有个建议",
    "我要投诉",
    "我想投诉",
    "我要举报",
    "我想举报",
    "我要求助",
    "我想求助",
    "我要反映",
    "我想反映",
    "我要报修",
    "我想讲一下",
    "我想讲下",
)
# Words that name the kind of report or are filler, not part of the description; longest first.
INTENT_WORDS = (
    *REQUEST_PHRASES,
    "请问",
    "你好",
    "您好",
    "投诉",
    "举报",
    "求助",
    "建议",
    "反映",
    "报修",
    # Typed as they sound (投述 for 投诉: the fifth blind set kept "投述291路" as the place).
    "投述",
    "投数",
    "一下",
    "一个",
    "问题",
    "情况",
    "事情",
    "我要",
    "我想",
    "帮忙",
    "帮我",
    "麻烦",
    "好的",
    "是的",
    "喂",
    "嗯",
)
# Urgent matters have hours, not days (data/work_orders/deadlines.yml).
URGENT_WORDS = (
    "漏水严重",
    "爆管",
    "水管爆",
    "停电",
    "停水",
    "被困",
    "困在电梯",
    "燃气",
    "煤气",
    "漏气",
    "触电",
    "坍塌",
    "倒塌",
    "塌方",
)
# What is wrong somewhere, in everyday words (a place said with one of these is a report, not information).
_SOMETHING_WRONG = re.compile(
    r"坏了|坏咗|烂了|不亮|唔着|漏水|渗水|积水|水浸|堵了|堵住|堵塞|噪音|好吵|很吵|太吵|吵死|扰民|臭|乱停|乱摆|占道|乱扔|乱倒"
    r"|偷排|拖欠|没人管|没人修|冇人理|停水|停电|冒烟|施工到|还在施工|违建|违章搭建|乱收费|塌|裂了|危险"
    r"|假冒|假货|卖假|大窿|有个窿|大坑|有个坑|冇咗盖|不见了|黑车|拉客|塞住|塞死|堵路|全是坑|都是坑|好多坑|烂路"
    r"|倒了|倒咗|断了|断咗|歪了|歪咗|堆满|堆到|堆晒|冇得行|过唔到|过不去|走不了|行唔到"
    # Cheating, touting, droppings, smoke, a deposit kept (把秤有鬼, 兜客, 鸽屎, 扣了我2000块押金: the eighth set).
    r"|秤有鬼|呃秤|缺斤|短斤|(唔|不)够秤|兜客|鸽屎|狗屎|黑烟|烧胶|异味|怪味"
    r"|扣(了|咗)?[^，。,]{0,8}押金|押金[^，。,]{0,4}(不退|唔退|冇退|没退)|欠薪|(不|唔|冇|没)(发|俾|给|出)(工资|人工|粮)"
    # Wages held back said the other way round (两个月人工冇出); wires charging e-bikes in a corridor (飞线充电);
    # a pyramid scheme; cigarettes sold to pupils; walls drilled at night; lights that do not come on (冇着).
    r"|(工资|人工|粮)[^，。,]{0,2}(冇|没|未|唔)(出|发|俾|给)|拖(咗|了)?[^，。,]{0,6}(工资|人工)"
    r"|飞线|拉线充电|传销|卖烟(俾|给|畀)|打墙|钻墙|敲墙|冇着|冇电|冇水"
    # Staff who treat people badly (态度好差), a dog barking all night, animals slaughtered in the street (the tenth
    # set).
    r"|态度(好|很|非常|太|极)?(差|恶劣|唔好|不好)"
    r"|狗[^，。,]{0,6}(吠|乱叫|叫个不停)|日日吠|成晚吠|劏(鸡|鸭|鹅|鱼|狗)|宰(鸡|鸭|鹅)|血水|腥臭|好腥|好醒"
    # A broken cover or road in Cantonese (烂咗), scales that are wrong (个秤明明有问题: the ninth set).
    r"|烂咗|秤[^，。,]{0,4}(有问题|唔准|不准|有古惑|古惑|做手脚|做咗手脚|动过手脚)|坏晒|烂晒|黑麻麻|黑蚊蚊|拱起|翘起"
    # Trading without a licence (没牌的小作坊, 补习社冇牌: the ninth set's test half).
    r"|没牌|冇牌|无牌|无证经营|冇证经营|没有营业执照|冇营业执照"
)
# Where it is, said loosely from home (我屋企楼下, 我家门口, 隔篱): a place enough for a problem told, not asked.
_NEAR_HOME = re.compile(r"楼下|楼上|门口|隔篱|隔壁|对面|小区|屋企|我家|我哋栋|我们那栋")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Where one clause of a message ends and the next begins.
_CLAUSES = re.compile(r"[\s，,。！!？?；;]+")
# How many characters make a problem told at length (a report even before any place is said).
_TOLD_AT_LENGTH = 20
_DISTRICT_NAMES = tuple(
    (
        name,
        re.compile(
            rf"{name[:-1]}(?:区|(?!路|街|大道|大街|桥|山|城|村|镇|公园|广场|机场|中学|小学|医院|站|[\u4e00-\u9fff]{{1,2}}站))"
        ),
    )
    for name in DISTRICTS
)
_UNKNOWN = re.compile(
    r"^(?:我?(?:也)?(?:不知道|不清楚|不确定|不记得|记不清|说不清|忘了)|没有具体\S*|没有|不涉及|都有|全市)"
)
_NOT_ANONYMOUS = re.compile(r"[不别](?:要|用|想|必)?匿名")
# Not leaving a number or a name, said as the whole answer (不留联系方式, 我不想留名, 唔留电话喇).
_NO_CONTACT = re.compile(
    r"(?:(?:我)?(?:不|唔|不想|唔想|不要|不用|唔使|唔要|不必)留(?:名|名字|姓名|电话|号码|联系方式|联系电话|手机号?)?[了啦喇吧哦]*"
    r"(?:得唔得|可以吗|可唔可以|可不可以|行不行|行吗|得不得|好唔好)?[啊呀吗]*)+"
)
# A name, a number or a call declined anywhere in the answer (我不方便留名, 唔用呢个 我唔想留电话, 不用联系我了).
_WITHHOLDS_CONTACT = re.compile(
    r"(?:不想|唔想|不愿意?|唔愿意?|不方便|唔方便|不要|唔要|不用|唔使|不必|唔好)再?"
    r"(?:留|讲|说|报|透露|告诉你|俾|给|畀)(?:我?[的嘅]?)(?:名|姓名|电话|号码|联系方式|手机|身份)"
    r"|(?:不用|唔使|不要|唔好|别)再?(?:联系|打(?:电话)?(?:俾|给|畀)|回电话?(?:俾|给|畀)?|回访|通知)我(?![老屋家个嘅的哋])"
)
# …unless it is a question about doing so (如果不想留名的话会不会影响处理) or another number is given instead.
_ONLY_ASKING_OR_NUMBER = re.compile(r"的话|如果|假如|会不会|会唔会|能不能|[0-9幺一二三四五六七八九零]{7,}")
_FILLER = re.compile(
    r"^(?:就是|就在|地址是|地点是|位置是|地方是|具体是|大概在|大概是|应该是|位于|是在|我家在|我住在|在|是)+"
)
_PUNCTUATION = re.compile(r"[\s，,。.！!？?；;：:、“”\"'（）()]+")
# A place in free text: a road, street, village, estate, building, station or house number.
_PLACE_END = (
    r"(?:大道|大街|(?<!成条)(?<!整条)(?<![绕让带问迷赶找])路(?![灯费况线过面边]|上(?!的))|(?<!成条)(?<!整条)街(?![坊道办])|巷|(?<!整个)(?<!成个)(?<!全)(?<!哋条)(?<!嗰条)(?<!呢条)(?<!这条)(?<!那条)(?<!经过)(?<!路过)(?<!\s条)(?<!^条)(?<!\s个)(?<!^个)村(?![民委])|小区|花园|新村|公寓|大厦|广场(?!舞)|市场|公园"
    r"|地铁站|公交站|站|工地|半岛|岛|山庄|家园|苑|新城|新邨|邨|宿舍|小学|中学|学校|幼儿园|机场|高速|快速路|高架|立交|隧道|[0-9一二三四五六七八九十百零〇]+号楼|[0-9一二三四五六七八九十百零〇]+栋"
    r"|[0-9一二三四五六七八九十百零〇]+号(?![窗线码机出]))"
)
# After a district's short name, one more character and a place's ending: the name goes on (海珠湖公园,
# 天河北路), so it is the place's own name, not the district said before it (越秀北京路).
_NAME_GOES_ON = re.compile(rf"[\u4e00-\u9fff]{_PLACE_END}")
# One name and what follows it without a break or a 的 (市桥街清河路18号, 江南西路那个菜市场).
_PLACE = re.compile(
    rf"[\u4e00-\u9fffA-Za-z0-9]{{1,14}}?{_PLACE_END}"
    rf"(?:[\u4e00-\u7683\u7685-\u9fffA-Za-z0-9]{{0,8}}?{_PLACE_END})*"
    # A road's direction is part of its name (中山大道西, 广州大道中), not a side or the middle of it (路中间).
    r"(?:(?:(?<=大道)|(?<=大街)|(?<=路))[东南西北中](?![间央心侧边面部门方头站口段]))?"
    # The number may follow a pause (a phone transcript: "公益路 二十一号") or the road's direction (江南大道中88号).
    r"(?:[东南西北中]段)?(?:[东南西北中]?\s?[0-9一二三四五六七八九十百零〇]+号(?![窗线码机出]))?"
    # A station's exit (体育西路地铁站D出口, 公园前站3号出口).
    r"(?:(?<=站)(?:[A-Za-z][0-9]{0,2}|[0-9一二三四五六七八九十]{1,2}号?)出口)?"
)
# Coming from a place (我刚从广州南站出来): what follows 从 is the place; not the 从 of a name (广从公路, 从化).
_COMING_FROM = re.compile(r"(?<=[刚我就才都])从")
# Between the start of a ride or a line and its destination (珠江新城花城汇嗰度上车去…, 横沥镇到…): a short
# gap that ends with getting on, then 去/到/往 (not 到处, 到达, 去年).
_BOARDING = r"(?:上车|出发|坐车|搭车|打车|坐|搭|乘)"
_ROUTE_ON = re.compile(
    rf"(?:[\u4e00-\u9fffA-Za-z0-9]{{0,5}}?(?:嗰度|那里|这里|那边)?{_BOARDING})?"
    r"(?:去|到|往)(?![处底时了达期位点年过世])"
)
# The start of a route said right before its 到/去 (南沙横沥镇, 从天河客运站坐).
_ROUTE_FROM = re.compile(rf"[\u4e00-\u9fffA-Za-z0-9]{{1,8}}?(?:{_PLACE_END}|镇|街道){_BOARDING}?$")
# A town or sub-district named (黄阁镇, 大石街道).
_TOWN = re.compile(r"(?:(?![区市省])[\u4e00-\u9fff]){2,3}?(?:镇|街道)")
# Words that make what follows 到/去 no destination (到晚上十点还在施工的工地).
_NOT_A_DESTINATION = re.compile(r"[的在是还就很了]")
# What is said in brackets right after a place (…工地（新港东路会展中心对面）).
_BRACKETED = re.compile(r"\s*[（(]([^）)]{2,24})[）)]")
# A road named in an address (its number makes it precise without the area said before it).
_ON_A_ROAD = re.compile(r"大道|马路|公路|国道|路|大街|巷")
# A bus route (291路, B12路).
_BUS_ROUTE = re.compile(r"[A-Za-z]?\d+路")
# A kind of place said without its name (公交站, 地铁站, 工地).
_KIND_ONLY = re.compile(
    r"(?:公交|公交车|地铁|汽车)?(?:站|车站|站口)|地铁口|工地|(?:肉菜|农贸|菜)?市场|(?:十字)?路口|天桥|隧道|桥底|村口"
)
# Between a known place and the address said right after it (新塘那边，大敦村).
# A bridge or an interchange of that name may come between (洛溪大桥 落桥之后嗰个路: the eighth blind set).
_BETWEEN_PLACES = re.compile(r"(?P<landmark>大桥|桥|隧道|立交)?(?:那边|这边|附近)?[，,、\s]?")
# A road said as "that one", not by its name (落桥之后嗰个路).
_THAT_ROAD = re.compile(r"(?:嗰|那|这|呢)(?:个|条|段)[\u4e00-\u9fff]?(?:路|马路)")
# A pause between the parts of one address (棠下街 棠德南路): spaces; a comma ends a clause instead.
_PAUSE = re.compile(r"\s+")
_NOT_A_PLACE = re.compile(
    r"^(?:我|你|他|她|这|那|哪|一|整|每|个|嗰|附近|对面|旁边|马路|出马路|出街|走路|上路|道路|公路|一路)"
)
# A kind of place with no name (我们是花都区一个老小区): no address yet, so the form asks for it (the fourth
# blind set's test half: "花都区老小区" was filed as the place).
_NAMELESS_PLACE = re.compile(r"(?:老|新|旧|大|小)?(?:小区|楼盘|楼|宿舍|村|街道|商场|市场|学校|公园|医院)")
# "A" or "one" before a kind of place (一个小区, 个垃圾站), and a side of a place (那边, 附近).
_SOME = re.compile(r"^(?:一个|一间|一家|一栋|一座|一|个)")
_NEAR_WORD = re.compile(r"(?:那边|这边|附近|一带)$")
_NUMERAL = "0-9一二三四五六七八九十两半几"
# A named landmark and the side of it (蕉门河那边, 岗顶地铁站旁边), not one's own door (我家门口, 这边).
_LANDMARK_NEAR = re.compile(
    r"(?![我你他她这那])[\u4e00-\u9fffA-Za-z0-9]{2,12}(?:那边|这边|附近|旁边|对面|边上|门口|一带)"
)
# How long the citizen has lived, worked or studied somewhere, said before a length of time: not the problem's.
_OWN_TIME = re.compile(r"(住|居住|工作|上班|做|干|读书|生活|待)(了|在这里|在这|这里|这儿|喺度|咗)?$")
# A date first (11月20日起), then a named time (上周开始), then a duration (三天了).
_SINCE_PATTERNS = (
    re.compile(r"(?:从|自)?[0-9一二三四五六七八九十]{1,2}月[0-9一二三四五六七八九十]{1,3}[日号](?:开始|起|以来)?"),
    re.compile(
        # A season first, of last year or this one (去年冬天, not 去年 alone); a season alone only when something
        # began then (夏天开始), not when it is worse then (夏天仲多乌蝇: the fifth blind set).
        r"(?:从|自|由)?(?:(?:去年|今年|旧年)(?:春天|夏天|秋天|冬天)|(?:春天|夏天|秋天|冬天)(?=开始|起|以来)|入冬|入秋"
        r"|昨天|昨晚|前天|前晚|今天|今早|今晚|(?:刚刚|刚才)(?=发生|开始|出的事)"
        # The week or month before last first (上上个星期三), then last week's or month's.
        r"|上上个?(?:星期|礼拜)[一二三四五六日天]?|上上周[一二三四五六日天]?|上上个?月"
        r"|上周[一二三四五六日天]?|上个?星期[一二三四五六日天]?"
        r"|上个?礼拜[一二三四五六日天]?|上个月|上月|这几天|前几天|前[两三四五六七八九十]天|去年|年初|月初"
        # A holiday or an event as the start, with 从 or an "after" (从中秋节到现在, 国庆后, 台风过后, 开学之后).
        r"|(?:从|自)(?:今年|去年)?(?:中秋节?|国庆节?|春节|过年|五一|端午节?|元旦|清明节?|开学|放暑假|放寒假)(?:前后|后|之后|以后|过后)?(?:开始|起|以来|到现在)?"
        r"|(?:(?:前日|前天|昨天|琴日|上个月|上周)?(?:今年|去年)?(?:中秋节?|国庆节?|春节|过年|五一|端午节?|元旦|清明节?|开学|放暑假|放寒假|台风))"
        r"(?:前后|后|之后|以后|过后)(?:开始|起|以来|到现在)?"
        # …or said to begin then (五一开始搞的夜市: the sixth blind set's test half).
        r"|(?:今年|去年)?(?:中秋节?|国庆节?|春节|过年|五一|端午节?|元旦|清明节?|开学|放暑假|放寒假)(?=开始|起)"
        # A whole year, in Cantonese (差唔多成年都系咁), not an adult (成年人).
        r"|(?:差唔多|差不多|大概|几乎)?成年(?=都|咁|了|啦|喇)"
        # This month, week or year, only with its start (这个月开始的), not "这个月的电费".
        r"|(?:这个?|本|今个)(?:月|星期|礼拜|周)(?=开始|起|以来)|今年(?=开始|起|以来)"
        # Cantonese: 琴日/寻日 (yesterday), 琴晚/寻晚, 前日, 今朝, 旧年 (last year), 呢几日 (these days).
        r"|琴日|琴晚|寻日|寻晚|前日|今朝|旧年|呢几日|前几日|前[两三四五六七八九十]日"
        # This week's day (这个星期三, 礼拜二开始), never a day that comes back (每周一).
        r"|(?:这个?|本|今个)(?:星期|礼拜|周)[一二三四五六日天]"
        r"|(?<!每)(?<!每个)(?:星期|礼拜|周)[一二三四五六日天](?=开始|起|以来)"
        # 前排 (Cantonese: lately) only with its 开始/起: alone it is the front row.
        r"|前排(?=开始|起))(?:年底|年尾|月底|月尾|底)?(?:早上|晚上|下午|开始|起|以来)?"
    ),
    # A length of time, Cantonese too (三日, 成个礼拜: a whole week; 钟头: hours).
    re.compile(
        rf"(?:快|近|已经|都)?大?(?:[{_NUMERAL}]+个?多?|成个)(?:天|日|周|星期|礼拜|月|年|小时|钟头)多?(?:了|以来|之前|前)?"
    ),
    # Long-standing, said without a date (一直都有, 一直都是这样, 好多年了): "since when" is answered.
    # Not 一直 alone (一直有人唱歌 is all evening, 一直没人修 says nothing of when it began), nor 长期
    # (长期违停 says how often, not since when: the third blind set answered the question after it).
    re.compile(
        r"一直都(?:有|是这样|这样|存在|没有|冇|系咁|係咁)|一直(?:是这样|这样|以来|系咁|係咁)|好多年了?|好几年了?"
    ),
)
# A place taken back and the one meant (唔系植村 系会江村; 不是3楼，是5楼，502那家; 不是三楼 我住五楼).
_PLACE_TAKEN_BACK = re.compile(
    r"(?:不是|唔系|唔係)\s*(?P<old>[^\s，,。！？…]{1,10}?)\s*[，,]?\s*(?:是|系|係|我住|住|喺|在)\s*"
    r"(?P<new>[^\s，,。！？…]{1,12}?)(?:那家|那户|嗰间|嗰户|嗰度)?(?=$|[\s，,。！？…])"
    r"(?:[，,]\s*(?P<more>\d{2,4}))?"
)
# The new value first, then the old one taken back (是D出口，不是B).
_PLACE_TAKEN_BACK_AFTER = re.compile(
    r"(?:是|系|係)\s*(?P<new>[^\s，,。！？…]{1,12}?)\s*[，,]?\s*(?:不是|唔系|唔係)\s*(?P<old>[^\s，,。！？…]{1,10}?)"
    r"(?=$|[\s，,。！？…])"
)
# A floor, a room or a building's number (5楼, 五楼502, 3栋).
_FLOOR_OR_ROOM = re.compile(r"[\d一二三四五六七八九十两]+(?:楼|层|栋|座|室|号)[\d一二三四五六七八九十]*(?:室|房)?")
# A time taken back in the same message: what follows is the time meant ("哦不是，是上上个星期三").
_TIME_CORRECTED = re.compile(r"(?:不是|不对|说错了|唔系|唔啱)[，,。\s]*(?:是|系|应该是)")
_YES = re.compile(
    r"^(?!对不起|对唔住|不对|好像|是不是|可以吗|行不行|系咪|系唔系|係咪|得唔得)(?:确认提交|确认|提交|可以|好的?|行|对的?|是的?|嗯+"
    # Cantonese yes (系啊, 啱, 得).
    r"|(?:系|係|啱)(?:啊|呀|嘅|喇|啦|晒)?|得(?![唔到])|没问题|冇问题|无问题|没错|冇错|无错|交咗|就?用呢个|就这样|就咁|得啦|就这个|用这个|就?打这个|这个(?:电话|号码|号)?就行"
    # The number offered, said as "this one of mine" (就用我这个号码, 打我这个电话, Cantonese 打呢个电话啦).
    r"|我?(?:就|都)?(?:打|用|联系|拨|call)(?:返)?我?(?:发短信|发信息|打电话|现在用|而家用)?的?"
    r"(?:这个|呢个|现在这个|而家呢个|我这个)(?:电话|号码|号|手机)?"
    # The number of the contact shared on Telegram (用我分享给你的那个号码: the fifth blind set).
    r"|(?:就)?用我(?:分享|发)(?:给你)?的(?:那个|这个)?(?:电话|号码|号|手机)[吧啦啊]*"
    # "My number" and "this phone" (用我个号码啦, 本机: the seventh blind set), not "my number is …".
    r"|(?:就)?(?:用|打|留)?(?:我个|我嘅|我的|自己的?|自己嘅)(?:电话|号码|号|手机)(?![码是系係0-9一二三四五六七八九零幺两])"
    r"|(?:就)?(?:用|打)?本机(?:号码|号|电话)?(?![码是系係0-9]))"
)
# The marks of a question: 吗/呢 at the end, or a question word (几点, 怎么, 为什么, 哪里, 点解, 几时…).
_ASIDE = re.compile(
    r"(?:吗|呢|嘛|未)$|几点|怎么|为什么|为啥|哪里|哪儿|点解|几时|边度|点样|要多久|多少钱|几耐|多耐"
    r"|(?:哪个|边个|咩|什么)部门"
    r"|可不可以|能不能|有没有|有冇|是不是|要不要|会不会|系咪|系唔系|使唔使|要唔要|㗎$"
    # Asking what can be done (有冇咩办法, 怎么办, 点算).
    r"|怎么办|点算|(?:咩|什么|乜)办法"
    # A question said in passing (顺便问一下, 想问下) or as A-not-A (上不上班, 开不开门, 收唔收).
    r"|顺便问|想问一?下|问一?下你们|([\u4e00-\u9fff])[不没唔冇]\1"
)
# Saying what one is doing: making a report (我要投诉, 想反映一下, 举报… at the start, 提个建议), not
# refusing one (不想投诉) nor speaking of one made before (我要投诉的那个).
_EXPLICIT_REQUEST = re.compile(
    r"(?<![不唔没冇别])(?:(?:要|想|想要|需要|来)(投诉|举报|反映|求助)|^(?:喂|你好|您好)*(投诉|举报)"
    r"|提(?:个|一个|点|几个)?(建议)|我有(?:个|一个|些|几个|一点)?(建议)"
    # "I want to tell you about" something (我想讲下越秀公园入面啲人放风筝: an elderly caller's way of 反映).
    r"|我(?:想|要)(?:同你|跟你)?(讲下|讲一下)(?=[\u4e00-\u9fff])(?!(?:一)?(?:件|个|啲|些)(?:事|问题|嘢)))(?!的)"
)
# A report whose kind the citizen does not name (反映).
REPORTED = "反映"
# A business's name said with 叫 (一家民宿（叫云溪山居）, 一间叫做好运来的餐厅, 那间五金厂 叫宏发五金), not a 叫 of
# calling (叫我下车).
_BUSINESS_NAME = re.compile(
    r"(?:家|间|座)[\u4e00-\u9fff]{0,4}[（(\s]?(?:叫做|名叫|名字叫|叫)[“\"「]?([\u4e00-\u9fffA-Za-z0-9]{2,10}?)"
    r"(?:的|[”\"」）)，,。\s]|$)"
)
# Praise for the service, said unasked.
_PRAISE = re.compile(
    r"[五5](?:粒|颗|个)?星(?!级|红旗)|(?<![0-9十百])[五5]分(?!钟|之|局)|好评|点赞|满分|一百分|100分|赞一个|给你个赞|俾个赞你"
)
# The service said to be good (服务真係几好, 你们服务很好), and thanks (多谢晒, 谢谢你们, 唔该晒).
_SERVICE_PRAISED = re.compile(r"服务(?:真[係系是的]|确实|都|也)?(?:几好|很好|好好|不错|周到|一流|满意|好快|很快)")
_THANKS = re.compile(r"谢|唔该晒|感激")
# How long a score said alone may be (5分, 五星好评, 俾五粒星你).
_SCORE_ALONE = 6
# Going back to what was said before a question in between (返返去头先个投诉, 回到刚才那个, 继续之前的).
# A problem at home (the seventh blind set: the district the citizen said they live in was not kept).
_AT_HOME = re.compile(
    r"楼下|楼上|隔篱|隔壁|我家|我屋企|我哋(?:栋|楼|小区|条|嗰|门口)?|我们(?:小区|楼|这栋|那栋|家)|门口"
)
# Taking a report up again after dropping it (想想还是要投诉, 我谂谂 仲系投诉啦).
# Also with 登记 (你都系帮我登记返啦, 不过我谂返，都係登记啦: the eighth blind set).
_TAKEN_UP_AGAIN = re.compile(
    r"(?:还是|仲系|仲係|都系|都係|想想|想了想|谂谂|谂返)[^，,。！？]{0,4}?(?:投诉|举报|反映|求助|建议|登记|报(?!警))"
)
_GOODBYE = re.compile(r"再见|拜拜|bye|挂了|收线", re.IGNORECASE)
_GOING_BACK = re.compile(r"返返去|返去头先|回到(?:刚才|之前|头先|先前)|继续(?:刚才|之前|头先|先前)|接着(?:刚才|之前)")
# The number the channel knows, said as "this one" (就用我绑定的这个号码, 留这个号码吧, 用我 Telegram 绑定的号码就行,
# 就用你们看到的这个号, 呢个号码得: the sixth blind set).
# Also the platform's own (用我telegram嘅号码) and "my this one" (就用我呢个号码: the eighth blind set).
_THIS = (
    r"(?:我(?:的|嘅)?)?"
    r"(?:这个|呢个|本机的?|绑定的|看到的|来电的|显示的|验证过?的|注册的|现在用的|而家用紧嘅"
    r"|(?:telegram|tg|电报)(?:绑定|登记|注册)?(?:的|嘅)?)(?:这个|呢个|那个)?"
)
_THIS_NUMBER = re.compile(_THIS + r"(?:手机号码?|电话号码|号码|电话|手机|号)", re.IGNORECASE)
# …or as "this one" alone, in answer to the number offered (用呢个, 就用这个吧, 呢个得啦).
_THIS_ONE = re.compile(
    r"(?:就|都)?(?:系|是|係)?(?:用|打|留)?(?:我)?(?:呢个|这个|嗰个|那个)(?:号|号码)?"
    r"(?:啦|吧|喇|得|就得|就行|就可以|得啦|得喇|可以|都得)?"
)
# …said in a first message with what to do with it (你哋联系我就打呢个电话得啦, 电话就是这个号码).
_CONTACT_THIS_NUMBER = re.compile(
    r"(?:联系我|打|用|留|就是|系|係)(?:就|都)?(?:打|用)?"
    + _THIS_NUMBER.pattern
    # …or the number's word first (联系电话就系呢个: the tenth blind set).
    + r"|(?:联系电话|联系方式|电话号码|电话|手机|号码)(?:就|都)?(?:系|是|係|用|打)(?:我)?(?:呢个|这个)(?:啦|吧|喇|得)?"
    r"(?![\u4e00-\u9fff])",
    re.IGNORECASE,
)
_OTHER_NUMBER = re.compile(
    r"换|(?<![没冇无])别的|另一个|另外|(?<![没冇无])其他|其它|不用这个|不要这个|不要用|不用|唔好用|唔用|唔要"
)
# Words that name a field of the read-back, for "地址不对，是…" and "改一下时间".
_FIELDS = (
    ("contact", re.compile(r"电话|号码|手机|联系|匿名")),
    ("since", re.compile(r"时间|什么时候|多久|日期|开始")),
    ("address", re.compile(r"地址|地点|位置|地方|在哪|门牌|路名|小区名")),
    ("district", re.compile(r"哪个区|区不对|区错|区是|区改|区域|行政区")),
    ("details", re.compile(r"事情|内容|情况|描述|经过")),
    ("kind", re.compile(r"类型|类别|不是投诉|不是举报|不是求助|不是建议|改成投诉|改成举报|改成求助|改成建议")),
)
# The new value in a correction: what follows the first of these.
# The new value after the correcting word (Cantonese 系/喺 too: "地址唔啱，系青凤大街20号").
# Not the 是 of "不是上周，是上个月": what is denied is not the new value.
_NEW_VALUE = re.compile(r"(?:改成|改为|换成|应该是|其实是|正确的是|应该系|其实系|(?<![不唔])是|(?<!唔)系|喺)(.+)$")
# A message that begins by saying something said before was wrong ("不对，不是上周，是上个月").
_CORRECTING = re.compile(r"^(?:不对|不是|错了|说错了|搞错了|唔啱|唔系|更正一下|更正)")
# Words after a place that say it is only near there (北京路附近, 街口街那边): the spot is still to ask.
# A town or a sub-district (街道) alone: 京溪街, 太和镇, 钟落潭镇, 石门街道 (not 北京路, 步行街号).
_AREA_ONLY = re.compile(
    r"[\u4e00-\u9fff]{1,5}(?:街道|(?<!步行)街|镇|乡)"
    # An expressway or an elevated road, with its direction (机场高速往市区方向): which exit or section is asked.
    r"|[\u4e00-\u9fff]{1,6}(?:高速|快速路|高架)(?:公路)?(?:[往向去][\u4e00-\u9fff]{1,6}方向|[东南西北]行)?"
    # A kind of stop without its name (有轨电车站, 地铁站, 公交站台): which one is asked.
    r"|(?:有轨电车|电车|地铁|公交|巴士|BRT)(?:车站|站台|站)(?:台)?"
    # …or of a site (增城一个工地: the tenth blind set filed "增城区工地").
    r"|(?:一个|一间|个|间|嗰个|那个)?(?:工地|地盘|小区|商场|菜市场|街市|市场|学校|医院|公园|工厂|厂)"
)
# A spot described after a rough place: "就是/就在…路口/门口/出口/拐角".
_SPOT_AFTER = re.compile(
    r"[，,\s]*(?:就是|就在|即系|就系)([^，。,！？!?]{2,24}?(?:十字路口|丁字路口|路口|出口|门口|拐角|交界处?))"
)
_ONLY_NEAR = re.compile(r"(?:附近|那边|这边|一带|周边|那里|这里|那块|那片|那几栋|嗰几栋|那几座|嗰几座|那些|嗰啲)")
# The end of a name that says what kind of place it is (a road, a village, an estate): no area then.
_NAMED_KIND = re.compile(rf"(?:道|街|路|村|城|园|苑|邨|湾|座|号|墟|{_PLACE_END})$")
# "There" after a place: on it (多宝路那边), unless the place is long or wide (江南大道那边, 南浦岛那边).
_THERE = frozenset(["那边", "这边", "那里", "这里"])
# A place small enough to be found by its name: a street, a number, an estate, a building, a market, a station.
_SHORT_PLACE = re.compile(
    r"(?:(?<!大)路|(?<!大)街|巷|号|号楼|栋|座|小区|花园|新村|新邨|邨|公寓|大厦|广场|市场|公园|站|工地|苑|家园|山庄|宿舍|出口)$"
)
# 督办, and the words typed by its sound (读办是什么: the sixth blind set).
_SUPERVISION_WORD = re.compile(r"[督读毒独笃]办|督[半班]")
# Whether the one complained about is told who complained, or the citizen's details leak.
_CONFIDENTIALITY = re.compile(
    r"知道?(?:系|是)我|话俾佢知|话畀佢知|告诉(?:他|她|他们|对方|佢)|泄露|泄漏|曝光|保密|(?:说|讲|话|传)出去"
)
# Asking whether reporting costs anything, what a work order is, how long an answer takes.
_COST = re.compile(r"要不要(?:收)?钱|要唔要钱|收不收费|收唔收钱|收费吗|要收费|俾钱|给钱|交钱|付钱|付费|免费吗|收钱")
_WHAT_AN_ORDER_IS = re.compile(r"工单(?:是|系)(?:什么|咩|乜)|(?:什么|咩|乜)(?:是|叫)工单")
_REPLY_TIME = re.compile(
    r"(?:多久|多长时间|几耐|几时|什么时候|几日|几天)[^，。,]{0,6}(?:回复|答复|回覆|处理|有结果|回音)"
    r"|工作日还是自然日|自然日还是工作日|(?:时限|期限)(?:是|系)?(?:几|多)"
)
# Which department the report goes to (转给哪个部门, 交俾边个部门).
_WHICH_DEPARTMENT = re.compile(r"(?:哪个|边个|咩|什么|乜嘢?)(?:部门|单位)|(?:转|交)(?:给|俾|畀)(?:谁|边个|哪里|边度)")
# What happens after filing (接下来会怎样, 提交之后会点样, 会有人打电话给我吗).
_WHAT_NEXT = re.compile(
    r"接下来|(?:之后|以后|完)(?:会)?(?:怎样|怎么样|点样|点|如何)|跟住(?:会)?点|会有人(?:打电话|打俾我|联系|嚟|来|上门)"
)
# 督办 asked for (要督办, 还是督办吧, 帮我催一下), and refused (不用督办, 唔使催).
_SUPERVISION_ASKED = re.compile(
    r"(?:要|需要|还是|帮我|给我|麻烦|申请|可以|就)督[办半班](?![了过])|督[办半班](?:吧|一下|下)"
    r"|(?:帮我|给我|麻烦你?)催(?:一下|下|催|一催)|催(?:一下|下|一催)(?:也好|都好|吧|啦|喇)"
)
_SUPERVISION_REFUSED = re.compile(r"[不唔别免](?:用|要|需要|使|必)?(?:督办|催)")
# Not understanding a word is asking what it means (督办是什么意思啊 我听不懂, 咩叫督办: the fifth blind set).
_NOT_UNDERSTOOD = re.compile(
    r"什么意思|啥意思|咩意思|乜意思|咩叫|乜叫|什么叫|听不懂|听唔明|不明白|唔明|即[系係]点|即[系係]咩|[系係]咩嚟"
    r"|有什么区别|有咩分别|有乜分别|有什么不同|有咩唔同"
    r"|是指|指的是|系指|是啥|系咩嚟"
)
# The word asked after as a question of its own (啊？你再说一次，什么审查？: the ninth blind set).
_WHICH_WORD = re.compile(r"(?:什么|啥|咩|乜嘢?)$")
# Words of ours a citizen may not know (办结, 受理, 督办 and the words typed by its sound, 工单), and the catalogue's
# own that a caller asks about (签注, 备案, 住所: the eighth blind set).
_TERM = re.compile(r"办结|已发证|受理|审查|制证|送达|[督读毒独笃]办|工单|办理中|签注|备案|住所|经办|情形")
# A change of mind to another kind of report ("算了，还是投诉吧"), never "还是不投诉了".
_OTHER_KIND = re.compile(r"(?:算了|还是|不如|干脆|改成|改为)[^，,。！!？?不别唔]{0,3}?(投诉|举报|求助|建议)")
# The same matter called another kind (其实也不算举报吧，是投诉，…: the fourth blind set).
_RENAMED_KIND = re.compile(
    r"(?:不算|不是|唔系|唔算)(?:是)?(?:投诉|举报|求助|建议)[吧啦喇嘅的]*[，,。\s]*(?:应该|其实)?"
    r"(?:是|算|系|就是|只是|就系|只系|想)(?:提个|提一个|提)?(投诉|举报|求助|建议)"
)


# An apology or thanks after a corrected value is not part of it (…是钟村街汉溪大道那家，对不起).
_APOLOGY_AFTER = re.compile(r"(?:对不起|不好意思|唔好意思|抱歉|麻烦你了?|谢谢你?|唔该晒?)+$")
_SAID_WRONG = re.compile(r"说错|讲错|写错|搞错|弄错|不对|唔啱|错了")


def without_punctuation(text: str) -> str:
    """``text`` without spaces and punctuation (好的。 → 好的)."""
    return _PUNCTUATION.sub("", text)


# Asking to be called back (你们回个电话给我 号码你们那边应该能看到吧): how to reach the citizen, not what happened.
_CALL_ME_BACK = re.compile(
    r"(?:你们|你哋|你地)?(?:回|打)(?:个|一个)?电话(?:给|俾|畀)我|(?:你们|你哋|你地)?打(?:给|俾|畀)我"
    r"|(?:我的|我嘅)?(?:号码|电话)(?:你们|你哋|你地)?(?:那边|嗰边)?(?:应该)?(?:能|可以|会)?(?:看到|睇到|见到|查到)(?:吧|嘅|啦)?"
)


def description_length(text: str) -> int:
    """How many Chinese characters of ``text`` describe something, besides intent and filler words."""
    for word in INTENT_WORDS:
        text = text.replace(word, "")
    return len(_CHINESE.findall(_CALL_ME_BACK.sub("", text)))


def is_unknown(text: str) -> bool:
    """Whether the answer says the citizen does not know (不知道, 不清楚, 没有具体地址…)."""
    return _UNKNOWN.match(without_punctuation(text)) is not None


def withholds_contact(text: str) -> bool:
    """Whether the citizen declines to leave a name or number, or to be called (我唔想留名 你哋唔好打俾我)."""
    words = without_punctuation(text)
    return _WITHHOLDS_CONTACT.search(words) is not None and _ONLY_ASKING_OR_NUMBER.search(words) is None


def wants_anonymity(text: str) -> bool:
    """Whether the citizen asks to stay anonymous (我要匿名), not the opposite (不匿名)."""
    if _NO_CONTACT.fullmatch(without_punctuation(text)) or withholds_contact(text):
        return True
    text = text.replace("匿明", "匿名")  # typed by its sound (匿明吧不留电话: the seventh blind set)
    return "匿名" in text and _NOT_ANONYMOUS.search(text) is None


def is_aside(text: str) -> bool:
    """Whether the message is a question of the citizen's own (你们几点下班？), not an answer to one."""
    return _ASIDE.search(without_punctuation(text)) is not None or text.rstrip().endswith(("？", "?"))


def says_yes(text: str) -> bool:
    """Whether the answer begins with a yes (可以, 好的, 确认提交, 没问题…)."""
    return _YES.match(without_punctuation(text)) is not None


def business_named(text: str) -> str | None:
    """The name a business is said to have (一家民宿（叫云溪山居）, 一间叫做好运来的餐厅), or None."""
    match = _BUSINESS_NAME.search(text)
    return match.group(1) if match else None


def praises(text: str) -> bool:
    """Whether the citizen praises the service (几好 俾五粒星你, 给你五星好评, 点赞)."""
    return _PRAISE.search(text) is not None


_HOPES_SOON = re.compile(
    r"^[^，。,？?]{0,6}[，,\s]*希望(?:你们|你哋)?(?:快啲|快点|尽快|早啲|早点)(?:整好|处理|解决|搞掂|修好|跟进)?[啦吧喇啊]*[。！!]?$"
)


def thanks_with_praise(text: str) -> bool:
    """Whether the citizen thanks and praises the service, or gives it a score alone, asking nothing (你哋服务真係
    几好…好快有人嚟处理，多谢晒; 5分)."""
    if is_aside(text):
        return False
    if praises(text) and len(without_punctuation(text)) <= _SCORE_ALONE:
        return True
    praised = praises(text) or _SERVICE_PRAISED.search(text) is not None
    # Hoping it is dealt with soon, asking nothing (一般般啦，希望快啲整好: the tenth blind set got a list of services).
    return (praised and _THANKS.search(text) is not None) or _HOPES_SOON.search(text) is not None


def goes_back(text: str) -> bool:
    """Whether the citizen goes back to what they were saying before (返返去头先个投诉啦, 继续刚才的投诉)."""
    return _GOING_BACK.search(text) is not None


def says_goodbye(text: str) -> bool:
    """Whether the words say goodbye (再见, 拜拜, bye)."""
    return _GOODBYE.search(text) is not None


def takes_up_again(text: str) -> bool:
    """Whether the citizen takes up again a report they dropped (想想还是要投诉, 继续刚才的投诉)."""
    return goes_back(text) or _TAKEN_UP_AGAIN.search(text) is not None


def means_this_number(text: str) -> bool:
    """Whether an answer to the offered number takes it, said as "this one" (留这个号码吧, 用我绑定的号码就行)."""
    said = without_punctuation(text)
    return _THIS_NUMBER.search(said) is not None and not wants_another_number(said) and not re.search(r"\d{5}", said)


def means_this_one(text: str) -> bool:
    """Whether an answer to the offered number is only "this one" (用呢个, 呢个得啦: the eighth blind set)."""
    return _THIS_ONE.fullmatch(without_punctuation(text)) is not None


def gives_this_number(text: str) -> bool:
    """Whether a report gives the number the channel knows as its contact (你哋联系我就打呢个电话得啦)."""
    said = without_punctuation(text)
    return _CONTACT_THIS_NUMBER.search(said) is not None and not wants_another_number(said)


def wants_another_number(text: str) -> bool:
    """Whether the citizen does not want the number offered (换一个, 用别的, 不用这个…)."""
    return _OTHER_NUMBER.search(without_punctuation(text)) is not None


def find_district(text: str) -> str | None:
    """The Guangzhou district named first in ``text`` (天河 or 天河区 → 天河区), or None.

    A short name that begins the name of a road or a place (天河路, 海珠广场, 白云机场) is not a
    district: 海珠路 is in 越秀区.
    """
    found = [(match.start(), district) for district, pattern in _DISTRICT_NAMES for match in pattern.finditer(text)]
    return min(found)[1] if found else None


def speaks_of_home(text: str) -> bool:
    """Whether the problem is at the citizen's home (我哋楼下, 我家门口, 我们小区, 隔壁)."""
    return _AT_HOME.search(text) is not None


def district_lived_in(text: str) -> str | None:
    """The district the citizen says they live in (我系 越秀区 住嘅, 我住海珠区), or None."""
    return find_district(text) if "住" in text else None


def find_district_or_place(text: str) -> str | None:
    """The district named, or else the district of a known place named (广州南站 → 番禺区, 越秀公园 → 越秀区); a
    district named only as where someone goes (从火车站到番禺要三百) gives way to the known place's."""
    district, place = find_district(text), district_of_place(text)
    if district and place and place != district and _only_a_destination(text, district):
        return place
    return district or place


def _only_a_destination(text: str, district: str) -> bool:
    """Whether every time ``text`` names the district it is where someone goes (到番禺, 去番禺)."""
    short = district[:-1]
    starts = [i for i in range(len(text)) if text.startswith(short, i)]
    return bool(starts) and all(i > 0 and text[i - 1] in "到去往返" for i in starts)


def strip_district(text: str) -> str:
    """``text`` without the district names in it and what precedes the first one (广州市天河区…)."""
    district = find_district(text)
    if district is None:
        return text
    short = district[:-1]
    start = text.find(short) + len(short)
    if _NAME_GOES_ON.match(text, start):  # 海珠湖公园, 天河北路: the district's name begins the place's
        start -= len(short)
    rest = text[start:].removeprefix("区")
    for name in DISTRICTS:
        rest = rest.replace(name, "")
    return rest


def clean_place(text: str) -> str:
    """An address as the citizen said it, without the district, filler words and punctuation."""
    place = without_punctuation(strip_district(text))
    place = _FILLER.sub("", place)
    return re.sub(r"(?:那边|这边|附近|一带|那里|这里|的)+$", "", place)


def find_address(text: str) -> str | None:
    """A road, estate, building or house number named in a description, or None when there is none."""
    for match in _PLACE.finditer(text):
        fragment = match.group()
        for word in INTENT_WORDS:
            fragment = fragment.replace(word, "")
        starts = [match.start() for match in _COMING_FROM.finditer(fragment)]
        cut = max([fragment.rfind(marker) for marker in ("在", "于", "是", "住", "到", "喺")] + starts)
        start_of_route = ""
        if fragment[:1] in ("去", "到") and cut <= 0:
            # A line that goes there from the town said before (黄阁镇的公交车…去南沙地铁站: the seventh blind set's
            # test half filed "去南沙地铁站").
            fragment, cut, start_of_route = fragment[1:], -1, _town_said_before(text, match.start())
        if cut >= 0 and find_district(fragment[cut:]) is None:
            if fragment[cut] == "到":
                start_of_route = _route_start(fragment[:cut])  # 横沥镇到蕉门地铁站
            fragment = fragment[cut + 1 :].removeprefix("了")  # 搬到了车陂路
        place = clean_place(fragment)
        # "门口的路", "小区里的广场": only what follows the last 的 names the place, unless what comes before it
        # is a landmark it is near (蕉门河那边的公交站, 岗顶地铁站旁边的天桥).
        if "的" in place:
            before, after = place.rsplit("的", 1)
            if _LANDMARK_NEAR.fullmatch(before) is None:
                place = after
            elif _NAMELESS_PLACE.fullmatch(_SOME.sub("", after)):
                place = _NEAR_WORD.sub("", before)  # 嘉禾那边的一个小区: only near 嘉禾, the spot still to ask
        if len(place) >= 2 and _NOT_A_PLACE.match(place) is None and _NAMELESS_PLACE.fullmatch(place) is None:
            # A sub-district and, after its 的, the estate in it (大石街的星河湾半岛): both, the estate found.
            # …or after a comma (从化街口街，河滨北路: the fifth blind set's test half).
            inside = (
                _PLACE.match(text, match.end() + 1)
                if only_an_area(place) and text[match.end() : match.end() + 1] in ("的", "，", ",")
                else None
            )
            if inside:
                place += clean_place(inside.group())
            start = text.find(place[:2], match.start())
            if _BUS_ROUTE.fullmatch(place):
                # A bus route and the known stop or station said after it (291路…从天河客运站开出来那班: the fifth blind
                # set kept only 291路).
                after = _known_place_said_after(text, start + len(place))
                place = f"{place}，{after}" if after else place
            elif _KIND_ONLY.fullmatch(place):
                # A kind of place said without its name is named by the known place said before it (石牌桥那边的共享
                # 单车堆在公交站: the fifth blind set filed 天河区公交站).
                place = _known_place_said_before(text, start) + place
            elif _THAT_ROAD.search(place):
                # A road said without its name is found by the known place said before it, near or far (洛溪大桥
                # 落桥之后嗰个路, 每朝去越秀公园行，建议喺北门入去嗰段斜路: the eighth blind set).
                before = _known_place_before(text, start) or _known_place_said_before(text, start)
                place = place if before in place else before + place
            elif _ON_A_ROAD.search(place) is None:
                # A village, estate or site is found by the area said just before it (我住花都狮岭，成条村: the fifth
                # blind set's test half kept only 成条村); a road needs none.
                before = _known_place_before(text, start)
                place = place if before in place else before + place
            end = (inside or match).end()
            # A route (横沥镇到蕉门地铁站, 珠江新城…上车去广州东站): where it starts and where it goes, both.
            destination = "" if start_of_route else _route_destination(text, end)
            if start_of_route or destination:
                return (f"{start_of_route}到{place}" if start_of_route else f"{place}到{destination}")[:MAX_ADDRESS]
            # A place said in brackets right after it (琶洲那个工地（新港东路会展中心对面）: the sixth blind set).
            bracket = _BRACKETED.match(text, end)
            if bracket is not None and _PLACE.search(bracket.group(1)):
                return f"{place}（{bracket.group(1)}）"[:MAX_ADDRESS]
            return (place + _said_after_pauses(text, end))[:MAX_ADDRESS]
    return None


def _town_said_before(text: str, start: int) -> str:
    """The last town or sub-district said before ``start`` (南沙区黄阁镇的公交车 → 黄阁镇), or ""."""
    towns = list(_TOWN.finditer(text, 0, start))
    return clean_place(towns[-1].group()) if towns else ""


def _route_start(before: str) -> str:
    """The place a route starts from, said right before its 到 (南沙横沥镇 → 横沥镇, 从天河客运站坐 → 天河客运站),
    or ""."""
    match = _ROUTE_FROM.search(before)
    if match is None:
        return ""
    said = re.sub(_BOARDING + "$", "", match.group())
    known = max((name for name in place_names() if said.endswith(name)), key=len, default="")
    place = known or clean_place(said)
    place = place.split("从")[-1]
    return place if len(place) >= 2 and _NOT_A_PLACE.match(place) is None else ""


def _route_destination(text: str, end: int) -> str:
    """Where a ride or a line said to start at ``end`` goes (…嗰度上车去广州东站 → 广州东站), or ""."""
    on = _ROUTE_ON.match(text, end)
    if on is None:
        return ""
    known = max((name for name in place_names() if text.startswith(name, on.end())), key=len, default="")
    if known:
        return known
    place = _PLACE.match(text, on.end())
    if place is None or len(place.group()) > 8 or _NOT_A_DESTINATION.search(place.group()):
        return ""
    return clean_place(place.group())


def _known_place_said_before(text: str, start: int) -> str:
    """The gazetteer's place said last before ``start``, however far (石牌桥 in 石牌桥那边的…公交站), or ""."""
    said = text[:start]
    found = [(said.rfind(name) + len(name), len(name), name) for name in place_names() if name in said]
    return max(found)[2] if found else ""


def _known_place_said_after(text: str, end: int) -> str:
    """The gazetteer's place said first after ``end`` (广州南站 in 886路…从广州南站开出来), or ""."""
    found = [(text.find(name, end), -len(name), name) for name in place_names() if name in text[end:]]
    return min(found)[2] if found else ""


def _known_place_before(text: str, start: int) -> str:
    """The gazetteer's place said right before ``start`` with only a pause or 那边 between (狮岭，成条村), with the
    bridge of its name (洛溪大桥), or ""."""
    name = _known_place_said_before(text, start)
    between = _BETWEEN_PLACES.fullmatch(text, text.rfind(name, 0, start) + len(name), start)
    return name + (between.group("landmark") or "") if name and between else ""


def _said_after_pauses(text: str, end: int) -> str:
    """The parts of the address that follow a pause (棠下街 棠德南路 华港花园), joined; "" when none does."""
    parts = []
    while (pause := _PAUSE.match(text, end)) is not None and (part := _PLACE.match(text, pause.end())) is not None:
        if "的" in part.group() or _NOT_A_PLACE.match(part.group()):
            break
        parts.append(clean_place(part.group()))
        end = part.end()
    return "".join(parts)


def find_since(text: str) -> str | None:
    """When the problem started, if the description says so (三天了, 上周开始, 昨晚), or None; not how long the
    citizen has lived or worked there (我住这里几十年了)."""
    corrected = _TIME_CORRECTED.search(text)
    if corrected is not None and (said_after := find_since(text[corrected.end() :])) is not None:
        return said_after  # 上个星期三…哦不是，是上上个星期三: the time said last
    for pattern in _SINCE_PATTERNS:
        for match in pattern.finditer(text):
            if _OWN_TIME.search(text[max(0, match.start() - 6) : match.start()]) is None:
                return match.group()
    return None


def place_only_near(text: str, address: str) -> str | None:
    """The place as said when ``text`` puts the problem only near ``address`` (北京路附近), else None."""
    start = text.find(address)
    if start < 0:
        return None
    near = _ONLY_NEAR.match(text, start + len(address))
    if near is None:
        return None
    if near.group() in _THERE and _SHORT_PLACE.search(address) and not only_an_area(address):
        return None  # 多宝路那边 is on 多宝路 (the fifth blind set); 江南大道那边 or 京溪街那边 is still rough
    named = _SHORT_PLACE.search(address)
    if named is not None and _ON_A_ROAD.search(address[: named.start()]):
        return None  # 环市东路华侨新村一带: a road and the estate on it (the sixth blind set)
    return address + near.group()


def spot_after(text: str, place: str) -> str | None:
    """The spot said right after a place given only roughly (金洲大道那边，就是地铁站出来那个十字路口), or None."""
    start = text.find(place)
    spot = _SPOT_AFTER.match(text, start + len(place)) if start >= 0 else None
    return spot.group(1) if spot else None


def only_an_area(address: str) -> bool:
    """Whether the place names only a town or a sub-district (京溪街, 太和镇), no road, estate or number in it;
    or only a known area (万顷沙, 石牌), not a station, market or park one can find by its name."""
    place = clean_place(address)
    if _AREA_ONLY.fullmatch(place) is not None:
        return True
    return place in places() and _NAMED_KIND.search(place) is None


def starts_a_correction(text: str) -> bool:
    """Whether the message begins by saying something said before was wrong (不对, 不是…, 唔啱)."""
    return _CORRECTING.match(without_punctuation(text)) is not None


# Something the citizen would like added or changed, put as what could be done (我觉得啲公交车站可以摆多两张凳, 能不能在
# …站台加个遮阳棚): a suggestion, though no 建议 is said (the ninth blind set's test half filed them as 投诉, or
# answered a service).
_SUGGESTED = re.compile(
    r"(?:我觉得|我认为|我谂|我諗|其实)[^。！？!?]{0,24}(?:可以|应该|好|最好)(?:加|摆多?|多摆|增加|多设|设|装|搞|开|建|放)"
    r"|(?:能不能|可不可以|可唔可以|能否|得唔得)[^。！？!?，,]{0,20}(?:加|摆多?|增加|多设|设|装|建|开)(?:个|一个|几个|啲|些|多)"
)


def explicit_request(text: str) -> str | None:
    """The kind of report the citizen says they are making (我要投诉…, 举报…, 提个建议), ``REPORTED``
    for one that names no kind (我想反映一下), or None: not a question about one (我要投诉的那个), never a
    refusal (不想投诉)."""
    match = _EXPLICIT_REQUEST.search(without_punctuation(text))
    if match is None:
        return "建议" if _SUGGESTED.search(text) else None
    word = next(group for group in match.groups() if group)
    return REPORTED if word in ("反映", "讲下", "讲一下") else word


# Someone else's wrongdoing: a business without a licence (没牌的小作坊, 补习社冇牌), something illegal (偷排, 传销).
_WRONGDOING = re.compile(
    r"(?:无|没|冇|没有)(?:牌|证|照|执照|营业执照|牌照|资质|许可证?)(?:的|嘅|经营|营业)?"
    r"|黑作坊|黑诊所|黑工厂|黑车|非法(?:经营|行医|营运|办学|施工|排污|集资|屠宰|加工)|无证经营|偷排|传销|赌档|赌场|假药|地沟油"
    # A teacher's paid tutoring (老师周末喺屋企开补习班: the tenth blind set).
    r"|(?:老师|教师)[^，。,]{0,12}(?:补习班|补课|有偿)"
)
# The citizen's own loss (卖给我, 不肯退钱, 骗了我): a complaint, however unlicensed the business.
_OWN_LOSS = re.compile(
    r"退款|退钱|退返|赔偿|赔钱|骗了我|呃咗我|收了我|收咗我|卖给我|卖俾我|我买的|我买咗|我被|骂我|闹我|态度"
    r"|我给了|我俾咗|我付了|我畀咗|多收(?:了|咗)?我|宰客|兜(?:咗)?(?:好)?大个圈|绕路"
)


def tells_own_loss(text: str) -> bool:
    """Whether the message tells of the citizen's own loss (司机不打表，开口要三百块，我给了): a 投诉."""
    return _OWN_LOSS.search(text) is not None


def reports_wrongdoing(text: str) -> bool:
    """Whether the message tells of someone's wrongdoing rather than the citizen's own loss: a 举报, not a 投诉
    (我们老板在工业区里找了个没牌的小作坊做月饼…, 楼下有间补习社冇牌)."""
    return _WRONGDOING.search(text) is not None and not tells_own_loss(text)


def states_a_problem(text: str) -> bool:
    """Whether the message tells of something wrong (东风东路…楼梯灯坏了半个多月了, 天河路100号的工地晚上十二点还在
    施工，噪音很大): a place, and how long or what is wrong; or, with no place yet, what is wrong told at length or with
    how long (部电梯坏咗成个礼拜, 房东…直接扣了我2000块押金…); not a question."""
    wrong = _SOMETHING_WRONG.search(text) is not None
    somewhere = find_district(text) or place_named(text) or _NEAR_HOME.search(text)
    if find_address(text) is None and not (wrong and not is_aside(text) and somewhere):
        # A district or a known place will do when what is wrong is told, not asked (…一条路…全是坑); without any
        # place, what is wrong must be told at length or with how long, and not asked (the form asks where).
        told = find_since(text) is not None or len(_CHINESE.findall(text)) >= _TOLD_AT_LENGTH
        return wrong and told and not is_aside(text)
    if is_aside(text):
        # A question in it: a report only when what is wrong and since when are said too (停水三天了…我老人家去
        # 哪里挑水啊: the fifth blind set), not "昨天开始停电了 怎么回事".
        return wrong and find_since(text) is not None
    return find_since(text) is not None or wrong


def asks_about_confidentiality(text: str) -> bool:
    """Whether the citizen asks if the one complained about will know who complained (会唔会话俾佢知系我投诉,
    你们不会说出去吧)."""
    return _CONFIDENTIALITY.search(text) is not None


def asks_about_cost(text: str) -> bool:
    """Whether the citizen asks if reporting costs anything (系咪要俾钱先可以投诉㗎, 投诉要不要收费)."""
    return _COST.search(text) is not None


def asks_what_an_order_is(text: str) -> bool:
    """Whether the citizen asks what a work order is (工单是什么东西, 咩叫工单)."""
    return _WHAT_AN_ORDER_IS.search(text) is not None


def asks_which_department(text: str) -> bool:
    """Whether the citizen asks which department the report goes to (你们是转给哪个部门？)."""
    return _WHICH_DEPARTMENT.search(text) is not None


def asks_what_happens_next(text: str) -> bool:
    """Whether the citizen asks what happens after filing (填完之后接下来会怎样？会有人打电话给我吗？)."""
    return _WHAT_NEXT.search(text) is not None


def asks_about_reply_time(text: str) -> bool:
    """Whether the citizen asks how long an answer takes (你们一般多久能给回复, 几时有回复)."""
    return _REPLY_TIME.search(text) is not None


def asks_something(text: str) -> bool:
    """Whether the message asks a question of the citizen's own, however it is said."""
    return is_aside(text) or asks_about_confidentiality(text) or asks_about_cost(text)


def asks_for_supervision(text: str) -> bool:
    """Whether the words ask for 督办 (要督办, 想了想还是督办吧, 帮我催一下), not refuse it (不用督办了) or tell of
    one (督办了三次都没人理)."""
    return _SUPERVISION_ASKED.search(text) is not None and _SUPERVISION_REFUSED.search(text) is None


def term_asked(text: str) -> str | None:
    """The word of ours whose meaning the citizen asks (办结是什么意思 → 办结, 读办是什么意思 → 督办), or None."""
    term = _TERM.search(text)
    if term is None:
        return None
    asked_after = _WHICH_WORD.search(text[: term.start()]) is not None and not text[term.end() :].strip("？?！!。 ")
    if _NOT_UNDERSTOOD.search(text) is None and not asked_after:
        return None
    return "督办" if _SUPERVISION_WORD.fullmatch(term.group()) else term.group()


def says_not_understood(text: str) -> bool:
    """Whether the citizen says they do not understand what was said (唔明你讲咩, 听不懂), asking about no word of
    ours."""
    return _NOT_UNDERSTOOD.search(text) is not None and _TERM.search(text) is None


def asks_about_supervision(text: str) -> bool:
    """Whether the words ask about 督办 itself (督办之后一般多久会有回复？, 督办有没有用, 督办是什么意思啊 我听不懂)."""
    return _SUPERVISION_WORD.search(text) is not None and (is_aside(text) or _NOT_UNDERSTOOD.search(text) is not None)


def other_kind(text: str, kind: str | None) -> str | None:
    """The kind of report a change of mind names (算了，还是投诉吧), when it is not ``kind``."""
    match = _OTHER_KIND.search(text)
    return match.group(1) if match and match.group(1) != kind else None


def renamed_kind(text: str, kind: str | None) -> str | None:
    """The kind the citizen now gives the same matter (不算举报，是投诉), when it is not ``kind``."""
    match = _RENAMED_KIND.search(text)
    return match.group(1) if match and match.group(1) != kind else None


def since_as_said(text: str) -> str:
    """Since when in the citizen's own words, punctuation turned into spaces (三天了。 → 三天了)."""
    return _PUNCTUATION.sub(" ", text).strip()


def is_urgent(text: str) -> bool:
    """Whether the description names a danger that cannot wait days (停电, 被困, 燃气…)."""
    return any(word in text for word in URGENT_WORDS)


def make_title(details: str) -> str:
    """A short title for the order: the first clause of the description that says something."""
    text = details
    for word in REQUEST_PHRASES:  # "我要投诉" and the like, not the words inside a description
        text = text.replace(word, "")
    for clause in _PUNCTUATION.split(text):
        clause = clause.strip()
        if len(_CHINESE.findall(clause)) >= MIN_DESCRIPTION:
            return clause[:TITLE_LENGTH]
    return (text.strip() or details)[:TITLE_LENGTH]


def corrected_address(text: str, address: str | None) -> str | None:
    """The address with a place taken back in ``text`` put right (唔系植村 系会江村), or a floor or room said
    instead of another added to it (不是三楼 我住五楼), or None when ``text`` takes back no place of it."""
    if not address:
        return None
    old = new = ""
    retracted_twice = False
    if (match := _PLACE_TAKEN_BACK.search(text)) is not None:
        retracted_twice = match.group("old") in ("唔", "不")  # 唔系唔系 系…: nothing taken back by name
        old, new = match.group("old"), match.group("new") + (match.group("more") or "")
    elif (after := _PLACE_TAKEN_BACK_AFTER.search(text)) is not None:
        old, new = after.group("old"), after.group("new")  # 是D出口，不是B
    if new and len(new) > len(old) and old + new[len(old) :] in address:
        old += new[len(old) :]  # 不是B after 是D出口: the B出口 of the address
    if new and old in address:
        return address.replace(old, new)[:MAX_ADDRESS]
    if new and _FLOOR_OR_ROOM.fullmatch(new):
        return (address + new)[:MAX_ADDRESS]
    if not retracted_twice:
        return None
    # Taken back without being said again (喺员村二横路 唔系唔系 系员村四横路: the ninth blind set): the place said
    # first after the correction, when it is another.
    first = _CLAUSES.split(said_after_correction(text).strip(), maxsplit=1)[0].lstrip("系是係")
    place = find_address(first) if first else None
    return place[:MAX_ADDRESS] if place and place not in address and address not in place else None


def find_correction(text: str) -> tuple[str | None, str]:
    """Which field of the read-back a correction names and the new value it gives ("" when it gives none).

    The fields are ``kind``, ``details``, ``district``, ``address``, ``since`` and ``contact``.
    """
    field = next((name for name, words in _FIELDS if words.search(text)), None)
    match = _NEW_VALUE.search(text)
    value = _APOLOGY_AFTER.sub("", without_punctuation(match.group(1))) if match else ""
    return field, value


def corrects_a_field(text: str) -> bool:
    """Whether the message says a field of the report was wrong and gives its new value
    (地址说错了，不是大石街，是钟村街汉溪大道那家，对不起)."""
    field, value = find_correction(text)
    return field is not None and bool(value) and _SAID_WRONG.search(text) is not None
