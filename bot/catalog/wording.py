"""What a citizen's question says, before it is searched: the text normalised (half-width, colloquial words
replaced), the request's words around the service stripped, pieces said twice dropped, and the situation
(情形) that words describe."""

from __future__ import annotations

import re
import unicodedata

from bot.catalog.dialect import mandarin

# Words that carry the request, not the service ("我想问下办护照要带什么材料" → "护照").
_FILLERS = sorted(
    [
        "请问一下",
        "请问",
        "你好",
        "您好",
        "我想问",
        "我想",
        "我要",
        "想要",
        "想问",
        "问一下",
        "问下",
        "咨询一下",
        "咨询",
        "一下",
        "帮我",
        "麻烦",
        "怎么样",
        "怎么",
        "怎样",
        "如何",
        "点样",
        "点办",
        "需要",
        "要带",
        "带什么",
        "什么",
        "啥子",
        "哪些",
        "资料",
        "材料",
        "手续",
        "流程",
        "东西",
        "要求",
        "条件",
        "可以",
        "能不能",
        "能否",
        "去哪",
        "在哪",
        "哪里",
        "边度",
        "那个",
        "就是",
        "然后",
        "还有",
        "嗯",
        "呃",
        "啊",
        "呀",
        "吗",
        "呢",
        "吧",
        "的",
        "了",
        "办理",
        "去办",
        "申办",
        "弄",
        "搞",
        "办",
    ],
    key=len,
    reverse=True,
)
# Colloquial words mapped to the catalogue's own terms, applied to queries and names alike.
_SYNONYMS = {
    "续签": "签注",
    "续期": "签注",
    "掉了": "补",
    "丢了": "补",
    "弄丢": "补",
    # Said with the verb before the loss (结婚证搬家的时候弄丢了): one loss, not 弄 and a loss (the fourth blind set).
    "弄丢了": "补",
    "搞丢了": "补",
    "搞丢": "补",
    "弄不见了": "补",
    "搞不见了": "补",
    "遗失": "补",
    "不见了": "补",
    "找不到了": "补",
    "补办": "补",
    "补领": "补",
    "过期": "换",
    "到期": "换",
    "驾照": "驾驶证",
    "身分证": "身份证",
    "户照": "护照",
    "社保卡": "社会保障卡",
    "社报卡": "社会保障卡",
    "社宝卡": "社会保障卡",
    "出生证明": "出生医学证明",
    "良民证": "无犯罪记录证明",
    # A first time said in other words (第一次申请，以前没有办过: the fourth blind set).
    "没有办过": "没办过",
    "第一次申请": "第一次办",
    "改个名": "改名",
    "注消": "注销",
    "换个名": "换名",
    # English names some citizens type (hi 我想问下 passport 第一次办要带什么).
    "passport": "护照",
    "idcard": "身份证",
    # …also by newcomers (HR说要我自己先弄好那个 social security card; work permit 之后的 residence permit: the ninth
    # blind set), read without spaces.
    "socialsecuritycard": "社会保障卡",
    "residencepermit": "居留许可",
    "workpermit": "工作许可",
    "drivinglicense": "驾驶证",
    "driverslicense": "驾驶证",
    "marriagecertificate": "结婚证",
    "birthcertificate": "出生医学证明",
    # Pinyin initials typed for the usual documents (sfz到期换领要啥: the fifth blind set).
    "sfz": "身份证",
    "gjj": "公积金",
}
_SYNONYM_ORDER = sorted(_SYNONYMS, key=len, reverse=True)
# Not knowing where it went is a loss too (不知道丢在哪里了, 不记得放哪了): said as 补 like the words above.
_LEFT_SOMEWHERE = re.compile(r"(?:(?:不知道|不记得|忘了)?(?:丢|掉)|(?:不记得|忘了)放)(?:在|到)?哪(?:里|儿)?去?了?")
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)


def normalize(text: str) -> str:
    """Half-width, lower-case, without punctuation, with colloquial words replaced."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _LEFT_SOMEWHERE.sub("补", _PUNCTUATION.sub("", mandarin(text)))
    for word in _SYNONYM_ORDER:
        text = text.replace(word, _SYNONYMS[word])
    return text


def strip_fillers(text: str) -> str:
    """The normalized query without the words of the request around the service."""
    text = normalize(text)
    for filler in _FILLERS:
        stripped = text.replace(filler, "")
        if stripped:
            text = stripped
    return text


def char_pairs(text: str) -> set[str]:
    """The text's character pairs (the text itself when shorter)."""
    if len(text) < 2:
        return {text} if text else set()
    return {text[i : i + 2] for i in range(len(text) - 1)}


_CHUNK_BREAK = re.compile(r"[\s，,。.！!？?；;、]+")


def without_repeats(query: str) -> str:
    """The question without the pieces a caller says again ("社保卡 社保卡 我的社保卡不见了" → "我的社保卡不见了").

    A piece said again adds nothing to what is asked, but joined to its neighbours it makes character
    pairs no name has (卡社), which read as words the service leaves out.
    """
    chunks = [chunk for chunk in _CHUNK_BREAK.split(query) if chunk]
    kept = [
        chunk
        for n, chunk in enumerate(chunks)
        if chunk not in chunks[:n] and not any(chunk in other and chunk != other for other in chunks)
    ]
    return " ".join(kept) if len(kept) < len(chunks) else query


def find_situation(text: str, situations: list[tuple[str, list[str]]]) -> int | None:
    """The situation ``text`` describes, by its name or a colloquial alias (longest wins)."""
    said = normalize(text)
    best: tuple[int, int] | None = None
    for index, (name, aliases) in enumerate(situations):
        for word in (name, *aliases):
            candidate = normalize(word)
            if candidate and candidate in said and (best is None or len(candidate) > best[1]):
                best = (index, len(candidate))
    return best[0] if best else None


# A certificate asked for without saying which (我要办个证, 办证要带什么): the citizen is asked which one,
# not offered the services whose aliases happen to say 办证 (开餐馆办证, 买房办证).
_SOME_CERTIFICATE = re.compile(
    r"(?:喂|你好|您好|请问|麻烦|那个|就是)*(?:我|我们)?(?:要|想|想要|需要|来|准备)?(?:办理|办|搞|弄)"
    r"(?:个|一个|张|一张|下|一下)?(?:证|证件|个证)(?:件)?"
    r"(?:要带什么|要带什么材料|需要什么|需要什么材料|要什么材料|要准备什么|怎么办|去哪里办|在哪里办)?"
    r"(?:啊|呀|吧|呢|的|嘛)*"
)


# Asking what to bring (要准备些什么东西, 需要哪些材料, 要带咩): a question about a service's materials.
_ASKS_WHAT_TO_BRING = re.compile(
    r"(?:要|需要|得|使)(?:准备|带|拿|交|提供|备)?(?:些|哪些|啲)?(?:什么|啥|咩|乜嘢?)(?:东西|材料|资料|证件|嘢|手续)"
    r"|(?:要|需要)(?:准备|带|拿|交|提供)(?:些|哪些|啲)?(?:什么|啥|咩|乜嘢?)"
    r"|(?:需要|要)(?:哪些|什么)(?:材料|资料|证件)"
    # …or ending the question with it (办居住证要咩嘢, read as 要什么).
    r"|(?:要|需要)(?:些|哪些)?(?:什么|啥|咩|乜嘢?)(?:呢|啊|吖|嘛|呀|㗎|啊嘛)?$"
)


def asked_only(text: str) -> str:
    """What follows "I only want to ask" (打咗成日电话都冇人听！！我就想问个仔读小学要咩资料: the eighth blind set), or
    ""."""
    said = mandarin(unicodedata.normalize("NFKC", text))
    match = _ONLY_ASKING.search(said)
    return said[match.end() :].strip() if match else ""


# How a service is done (个针簿点搞, 护照点样办, 怎么办理): answered with what it takes, materials first.
_ASKS_HOW_TO_DO_IT = re.compile(
    r"点搞|点办|点样办|点样搞|点样弄|怎么办理|怎样办理|如何办理|怎么搞|怎么弄|咋办理|咋弄"
    # How a service's own step is done (啲社保点样转返过嚟, 户口怎么迁过来, 点样补): not why it is not done yet.
    r"|(?:点样|点|怎么|怎样|如何|咋)(?:才能|先可以|可以)?(?:转|迁|补|换|申请|申领|领取|开通|注销|续期|续签|登记)"
    # Which document to get (要办啲咩证先去得: the tenth blind set).
    r"|(?:要|需要|使)办(?:啲咩|什么|咩|哪种|哪个|边种|乜嘢)(?:证|手续|证件)"
    # In English, mixed in (Hello, how to apply 居住证?: the tenth blind set).
    r"|how (?:to|do i|can i) (?:apply|get|renew|register)|what (?:documents|do i need)",
    re.IGNORECASE,
)


# The progress check put off for another question (算啦进度唔查住, 先不查了, 唔使查住).
_PROGRESS_PUT_OFF = re.compile(r"(?:进度)?(?:唔|不|先不|暂时不|唔使|不用)(?:查|问)(?:住|了|喇|啦|先)")
# Wanting to do a service, said as a plan (我同我老伴想去登记结婚, 打算去办居住证).
_WANTS_TO_DO = re.compile(
    r"(?:想|要|打算|准备|谂住)(?:去|来|嚟)?(?:同|帮|给|替)?(?:佢|他|她|我|个仔|个女|孩子|小孩)?"
    r"(?:办|申请|登记|领|考|换|补|开|转|迁|上)"
)


def puts_off_progress(text: str) -> bool:
    """Whether the citizen puts off the progress check for another question (算啦进度唔查住 我想问下…)."""
    return _PROGRESS_PUT_OFF.search(text) is not None


def wants_to_do(text: str) -> bool:
    """Whether the citizen says they plan to do something a service is for (想去登记结婚, 打算办居住证)."""
    return _WANTS_TO_DO.search(text) is not None


def asks_what_it_takes(text: str) -> bool:
    """Whether the citizen asks what to bring (办退休要准备些什么东西) or how a service is done (个针簿点搞)."""
    return asks_what_to_bring(text) or _ASKS_HOW_TO_DO_IT.search(text) is not None


def asks_what_to_bring(text: str) -> bool:
    """Whether the citizen asks what to bring or prepare (办退休要准备些什么东西)."""
    return _ASKS_WHAT_TO_BRING.search(mandarin(unicodedata.normalize("NFKC", text))) is not None


# "I only want to ask" (我就想问, 我只是想问下, 净系想问), after Cantonese is read as Mandarin.
_ONLY_ASKING = re.compile(r"(?:就|只|净|淨)(?:是|系|係)?想问(?:下|一下)?")
# Words that say a document was lost (after Cantonese is read as Mandarin: 唔见咗, 搵唔到 …).
# How long a service takes (几耐有得攞, 办好要多久, 多长时间能拿到, 几时出证).
_ASKS_HOW_LONG = re.compile(
    r"(?:几耐|多耐|多久|多长时间|几长时间|几多日|几日|几天|几时|什么时候)[^，。,？?]{0,6}?"
    r"(?:有得攞|攞|拿|领|出证|出嚟|出来|办好|办完|办得好|下来|到手|批)"
    r"|(?:办好|办完|出证|拿到|攞到)[^，。,？?]{0,3}?(?:要|需要|使)?(?:几耐|多久|多长时间|几日|几天)"
)
_LOST = re.compile(r"掉了|丢了|丢失|弄丢|遗失|不见了|找不到了")
# Someone else going for the citizen (叫我老婆帮我去开, 代办, 委托别人), or going in person (要不要本人去).
_ASKS_ABOUT_A_PROXY = re.compile(
    r"(?:可以|可不可以|可唔可以|能不能|能否|得唔得|行不行|可否)[^，。,？?]{0,4}(?:叫|让|请|找|委托)[^，。,？?]{0,6}"
    r"(?:帮我|替我|代我|帮手)"
    r"|代办|代领|代交|代为|委托(?:别人|他人|家人|其他人|老婆|老公)"
    r"|(?:要|需要|一定要|必须|使)(?:不要|唔要)?(?:佢|他|她|我|小朋友|孩子|细路)?本人(?:亲自)?(?:去|到场|过去|办|来)?"
)
# A question where to go (在哪里办, 去哪补): a question about the office, not about the materials.
_ASKS_WHERE = re.compile(r"哪里|哪儿|去哪|在哪|什么地方|地址")


# A question, however it is put (…吗, 能不能…, 得唔得).
_A_QUESTION = re.compile(
    r"[吗呢嘛㗎？?][\s。]*$|能不能|可不可以|可唔可以|得唔得|得不得|行不行|使唔使|要不要|可以吗|可否|还是一定要"
    r"|(?<![a-z])(?:can|could) i\b"
)
# Whether it can be done online (能在网上办吗, 手机上得唔得, 使唔使去现场).
_ASKS_ABOUT_ONLINE = re.compile(
    r"网上|线上|手机上|(?<![a-z])app|小程序|在家(?:里)?办|(?:使唔使|要不要|需不需要)(?:亲自)?去现场|(?<![a-z])online"
)


def asks_about_online(text: str) -> bool:
    """Whether the citizen asks if the service can be done online (能在网上办吗)."""
    return _ASKS_ABOUT_ONLINE.search(text.lower()) is not None and _A_QUESTION.search(text) is not None


# A copy instead of the original, or the answer sent by SMS (张发票系复印件得唔得, 用短信发俾我).
_ASKS_ABOUT_COPIES_OR_SMS = re.compile(
    r"复印件|影印|原件|短信|发(?:俾|给|畀)我"
    # Which papers the answer will ask for (要我回江西老家开什么证明吗: the tenth blind set).
    r"|要我[^，。,？?]{0,8}(?:开|准备|交)(?:什么|咩|啲咩|乜嘢|哪些|边啲)(?:证明|材料|资料)"
)


def asks_about_the_answer(text: str) -> bool:
    """Whether the citizen asks about the answer to come, not for a service: whether someone else may go, how long it
    takes, whether it can be done online, whether a copy will do, or to have it by SMS."""
    return (
        asks_about_a_proxy(text)
        or asks_how_long(text)
        or asks_about_online(text)
        or _ASKS_ABOUT_COPIES_OR_SMS.search(text) is not None
    )


def asks_about_a_proxy(text: str) -> bool:
    """Whether the citizen asks if someone else may go for them, or if they must go in person (可唔可以叫我老婆帮我去开,
    可以代办吗, 一定要本人去吗)."""
    return _ASKS_ABOUT_A_PROXY.search(mandarin(unicodedata.normalize("NFKC", text))) is not None


def asks_how_long(text: str) -> bool:
    """Whether the question is how long the service takes (几耐有得攞啊, 办好要多久？)."""
    return _ASKS_HOW_LONG.search(text) is not None


def says_a_loss(text: str) -> bool:
    """Whether the citizen says a document was lost (丢了, 找不到了, 不知道丢在哪里了), and asks nowhere where to go."""
    said = mandarin(unicodedata.normalize("NFKC", text))
    rest = _LEFT_SOMEWHERE.sub("丢了", said)
    return _LOST.search(rest) is not None and _ASKS_WHERE.search(rest) is None


def asks_for_some_certificate(text: str) -> bool:
    """Whether the citizen asks to get a certificate without saying which one (我要办个证)."""
    return _SOME_CERTIFICATE.fullmatch(_PUNCTUATION.sub("", text)) is not None
