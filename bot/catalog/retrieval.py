"""Ranking thousands of bureaucratic service names: jieba words, BM25 fields, the structure of names.

A citizen says "教资认定要普通话几级"; the catalogue says "高级中学教师、中等职业学校教师和中等职业学校
实习指导教师资格认定". What this module does about it:

- words: jieba's words (search mode) and the character pairs of the text between stopwords (across
  jieba's cuts), so that a misspoken, abbreviated or oddly cut word still shares pieces with the
  name; common misspellings are corrected (``MISSPELLINGS``), words misspelt by their sound are
  heard as the known words they sound like (``bot.catalog.homophones``), colloquial words are expanded with
  the catalogue's terms (``EXPANSIONS``; a 签证 by its purpose, ``VISA_TYPES``; "办到哪一步了" with
  进度查询), Cantonese words replaced with Mandarin ones;
- fields: BM25 (the ``bm25s`` package) over the names, aliases and situations of the services,
  and over everything a service publishes (name, department, materials);
- structure: ``事项(情形)`` names are indexed by both parts and their variants share a family
  (``family``); ``…进度查询`` and other ``…查询`` services rank only when the citizen asks to look
  something up, ``…预约`` ones when they ask for an appointment;
- levels: one name published by the province and by Guangzhou is one candidate (Guangzhou's
  record, the hotline's own city, answers).
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

import jieba
import numpy as np

from bot.catalog.dialect import mandarin
from bot.catalog.focus import without_yes_no_form
from bot.catalog.lexicon import catalogue_words

# Common misspellings of the words citizens type (variants, confusions an input method makes: 公正 is
# its first word for gongzheng), corrected in a question before anything else (so that "公正处" is
# read as "公证处" and expanded as that). Not one-off homophones of a few questions (律施, 制押, 版全):
# a table of those is a list of the questions it was written for.
MISSPELLINGS: dict[str, str] = {
    "身分证": "身份证",
    "户照": "护照",
    "港奥": "港澳",
    "优越卡": "优粤卡",
    "优悦卡": "优粤卡",
    "学藉": "学籍",
    "公正处": "公证处",
}
# Colloquial words and abbreviations, with the catalogue's words they stand for (added to the
# question, never replacing what was said). Everyday vocabulary, not any one catalogue's names.
EXPANSIONS: dict[str, str] = {
    # documents and cards
    "永居证": "外国人永久居留身份证",
    "绿卡": "外国人永久居留身份证",
    "回乡证": "港澳居民来往内地通行证",
    "台胞证": "台湾居民来往大陆通行证",
    "驾照": "驾驶证 执照",
    "公证处": "公证机构",
    # places and people
    "香港": "港澳",
    "澳门": "港澳",
    "户口": "户籍 户政",
    "国外": "境外",
    "外国": "境外",
    "海外": "境外",
    "美国": "境外",
    "加拿大": "境外",
    "英国": "境外",
    "日本": "境外",
    "韩国": "境外",
    "澳洲": "境外",
    "澳大利亚": "境外",
    "新西兰": "境外",
    "新加坡": "境外",
    "德国": "境外",
    "法国": "境外",
    "老人": "老年人",
    "小孩": "未成年人 子女",
    "孩子": "未成年人 子女",
    "儿子": "子女",
    "女儿": "子女",
    "退伍": "退役",
    "技校": "技工院校 技工学校",
    "河边": "河道",
    "江边": "河道",
    "房子": "房屋 房产",
    "新房": "居民 住宅",
    "新屋": "居民 住宅",
    "自建房": "乡村建设 村民住宅",
    "农村建房": "乡村建设 村民住宅",
    "首饰": "珠宝",
    "手镯": "珠宝",
    "项链": "珠宝",
    "戒指": "珠宝",
    "钻石": "珠宝",
    "翡翠": "珠宝",
    "金饰": "珠宝",
    "行驶本": "行驶证",
    "残疾证": "残疾人证",
    "良民证": "无犯罪记录证明",
    "出生证": "出生医学证明",
    "结婚证": "结婚登记",
    "离婚证": "离婚登记",
    # social insurance and welfare
    "社保": "社会保险 养老保险 参保",
    "医保": "医疗保险",
    "上班": "职工",
    "打工": "职工",
    "转过来": "转移",
    "转到": "转移",
    "转回": "转移",
    "转入": "转移",
    "没交": "断缴 补缴",
    "没缴": "断缴 补缴",
    "漏交": "断缴 补缴",
    "停交": "断缴 补缴",
    "补上": "补缴",
    "养老金": "养老保险",
    "退休金": "养老保险 待遇",
    "低保": "最低生活保障",
    "五保": "特困人员",
    "抚恤金": "死亡待遇 抚恤",
    "丧葬费": "死亡待遇 丧葬",
    # examinations and qualifications
    "教资": "教师资格",
    "一建": "一级建造师",
    "二建": "二级建造师",
    "注会": "注册会计师",
    "法考": "法律职业资格",
    "司考": "法律职业资格",
    "软考": "计算机技术与软件专业技术资格",
    "国考": "中央机关 公务员录用考试",
    "省考": "公务员录用考试",
    "考公": "公务员录用考试",
    "事业编": "事业单位公开招聘",
    "自考": "自学考试",
    "中级职称": "专业技术资格",
    # money, tax, property
    "完税": "完税证明",
    "个税": "个人所得税",
    "电费": "用电",
    "电表": "用电 表",
    "开电": "用电 报装",
    "通电": "用电 报装",
    "户名": "更名过户",
    "过路费": "通行费",
    "开发票": "代开 发票",
    "开公司": "公司 设立登记",
    "注册公司": "公司 设立登记",
    "成立公司": "公司 设立登记",
    "重新开门": "复业",
    "重新营业": "复业",
    "恢复营业": "复业",
    "存钱": "预存 送款",
    "送钱": "送款",
    "寄钱": "送款",
    # health, family
    "结扎": "计划生育手术",
    "挂号": "门诊预约",
    "绝育": "计划生育手术",
    "生小孩": "生育",
    "上户口": "户口登记 出生",
    "领养": "收养",
    # law and order
    "打官司": "诉讼",
    "起诉": "诉讼",
    "电子眼": "电子监控",
    "闯红灯": "交通违法",
    "罚单": "交通违法",
    "律师楼": "律师事务所",
    "律师行": "律师事务所",
    "版权": "著作权",
    "出质": "质押",
    "质押": "出质",
    "一造": "一级造价工程师",
    "二造": "二级造价工程师",
    "病退": "因病 提前退休",
    "断缴": "断缴补缴",
    "补缴": "断缴补缴",
    "公正": "公证",
    "个签": "个人游签注",
    "g签": "个人游签注",
    "自由行": "个人游签注",
    "跟团": "团队游签注 团队旅游签注",
    "探亲": "探亲签注",
    "免费律师": "法律援助",
    "请不起律师": "法律援助",
    "没钱请律师": "法律援助",
    "法律问题": "法律咨询",
    "探望": "探亲",
    "看望": "探亲",
    "活着": "生存",
    "领证": "结婚登记",
    "考驾照": "机动车驾驶证初次申领",
    "增驾": "增加准驾车型",
    "诊所": "医疗机构",
    "看守所": "被监管人员",
    "立遗嘱": "遗嘱",
    "毕业证": "学历 学位",
}
# China's visa types by their purpose (a question about a 签证 that says what it is for).
VISA_TYPES: dict[str, str] = {
    "旅游": "l字",
    "玩": "l字",
    "工作": "z字",
    "上班": "z字",
    "留学": "x字",
    "读书": "x字",
    "探亲": "q字",
    "家属": "q字",
    "商务": "m字",
    "做生意": "m字",
    "访问": "f字",
    "交流": "f字",
    "过境": "g字",
    "人才": "r字",
    "记者": "j字",
}
# Words of an action on a service; a name that ends in one of them fits a question that says one.
_ACTIONS: dict[str, str] = {
    "注销": "注销|销户|取消|不要了|不用了|关闭",
    "撤销": "撤销|取消",
    "迁出": "迁出|迁走|转出|搬走",
    "迁入": "迁入|转入|迁来|迁进",
    "变更": "变更|改|换成|更改|转到|跳槽",
    "补发": "补|丢|掉|遗失|不见",
    "换领": "换|旧|过期|到期",
    "换发": "换|旧|过期|到期",
    "延续": "延续|延期|到期",
    "延期": "延期|延长|延续|到期",
    "作废": "作废",
}
# Cantonese words with their Mandarin equivalent (replaced: they carry no catalogue word themselves).
CANTONESE: dict[str, str] = {
    "喺边度": "在哪里",
    "开间": "开",
    "边度": "哪里",
    "点样": "怎么",
    "点查": "怎么查",
    "点搞": "怎么办",
    "系咪": "是不是",
    "唔该": "",
    "使唔使": "要不要",
    "咩": "什么",
    "嘅": "的",
    "冇": "没有",
    "揸": "驾驶",
    "出世": "出生",
    "畀": "给",
    "佢": "他",
    "仔女": "子女",
    "个仔": "儿子",
    "喺": "在",
    "呢间": "这家",
    "嗰": "那",
    "真定假": "真假",
    "睇": "看",
    "几多": "多少",
    "几钱": "多少钱",
}
# What the citizen wants done with a service, said in many ways: 查询 and 预约 services.
_LOOKUP_WORDS = re.compile(r"查|真假|真伪|正规|有没有|在哪看|公布|下载|打印|是不是真|认不认")
_PROGRESS_WORDS = re.compile(
    r"进度|办到哪|哪一步|好了没|好没有|好没|做好了|好了吗|批下来|审批到|出来了没|出来了吗|出来没|到哪一步"
)
_APPOINTMENT_WORDS = re.compile(r"预约|约个|排号|取号|挂号")
_BRACKETED = re.compile(r"^(.+?)[（(](.+)[)）]$")
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)
# Words of a request that say nothing about which service (their pieces are not indexed either).
STOPWORDS = frozenset(
    [
        "请问",
        "你好",
        "您好",
        "我想",
        "我要",
        "想要",
        "想问",
        "问下",
        "一下",
        "咨询",
        "帮我",
        "麻烦",
        "怎么",
        "怎样",
        "如何",
        "需要",
        "什么",
        "哪些",
        "哪里",
        "可以",
        "能不能",
        "能否",
        "是不是",
        "要不要",
        "有没有",
        "要求",
        "条件",
        "资料",
        "材料",
        "手续",
        "流程",
        "东西",
        "时候",
        "现在",
        "已经",
        "之前",
        "然后",
        "还是",
        "还要",
        "就是",
        "那个",
        "这个",
        "我们",
        "你们",
        "他们",
        "自己",
        "因为",
        "所以",
        "但是",
        "如果",
        "的话",
        "知道",
        "不知道",
        "听说",
        "一个",
        "多少",
        "几天",
        "多久",
        "办理",
        "去办",
        "怎么办",
        "在哪",
        "哪个",
        "部门",
        "带什么",
        "要带",
        "是否",
        "不是",
        "没有",
        "可不可以",
        "一起",
        "大概",
        "下来",
        "准备",
        "提交",
        "什么样",
        "请问一下",
    ]
)
# Characters that do not start or end a meaningful pair ("的护" is no word).
WEAK_CHARS = frozenset("的了吗呢吧啊呀嗯哦要想我你他她它们是在有和与及或也都就还又把被让给去来个这那哪么啥")

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def jieba_tokenizer() -> jieba.Tokenizer:
    """A jieba tokenizer of this module's own (jieba's global one belongs to whoever else uses it)."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            _tokenizer = tokenizer
        return _tokenizer


def clean(text: str) -> str:
    """Half-width, lower-case, Cantonese words in Mandarin, without punctuation."""
    text = unicodedata.normalize("NFKC", text).lower()
    for word, plain in CANTONESE.items():
        text = text.replace(word, plain)
    return _PUNCTUATION.sub("", mandarin(text))


def correct(text: str) -> str:
    """The text with common misspellings corrected (``MISSPELLINGS``)."""
    for wrong, right in MISSPELLINGS.items():
        text = text.replace(wrong, right)
    return text


def expand(text: str) -> str:
    """The cleaned, corrected text followed by the catalogue's words for the colloquial words it contains."""
    return expand_read(*expansion(text))


def expand_read(said: str, colloquial: list[tuple[str, str]]) -> str:
    """What ``expansion`` read, as one text: what was said, then the catalogue's words."""
    return " ".join([said, *(official for _, official in colloquial)])


def expansion(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The cleaned, corrected text, and each colloquial word it contains with the catalogue's words for it."""
    text = correct(clean(without_yes_no_form(text)))
    pairs = [(word, official) for word, official in EXPANSIONS.items() if word in text]
    pairs += catalogue_words(text)
    if "签证" in text:
        pairs += [(word, letter) for word, letter in VISA_TYPES.items() if word in text]
    progress = _PROGRESS_WORDS.search(text)
    if progress:
        pairs.append((progress.group(), "进度查询"))  # "办到哪一步了" is what the catalogue calls 进度查询
    return text, pairs


def tokens(text: str) -> list[str]:
    """Index terms of a text: jieba's words (two characters or more, and the dictionary words inside
    longer ones, as jieba's search mode gives them) and the character pairs of each word."""
    terms: list[str] = []
    for chunk in text.split():
        terms += _chunk_tokens(chunk)
    return terms


@functools.lru_cache(maxsize=65536)
def _chunk_tokens(chunk: str) -> tuple[str, ...]:
    # Cached: material names (身份证原件…) repeat across thousands of services and rebuilds.
    tokenizer = jieba_tokenizer()
    terms: list[str] = []
    # Runs of words between stopwords: their character pairs cross jieba's word boundaries, so that
    # a name jieba cuts into single characters (优粤卡 → 优/粤/卡) is still found by its pieces.
    runs, run = [], ""
    for word in tokenizer.lcut(chunk, HMM=False):
        if word in STOPWORDS:
            runs.append(run)
            run = ""
            continue
        run += word
        if len(word) >= 2 and not word.isdigit():
            terms.append(word)
        for size in (2, 3):
            if len(word) > size:
                terms += [
                    word[i : i + size]
                    for i in range(len(word) - size + 1)
                    if tokenizer.FREQ.get(word[i : i + size]) and word[i : i + size] not in STOPWORDS
                ]
    runs.append(run)
    terms += [pair for run in runs for pair in _pairs(run)]
    if is_abbreviation(chunk):
        terms.append(chunk)
    if len(chunk) == 1 and chunk not in WEAK_CHARS:
        terms.append(chunk)
    return tuple(terms)


def is_abbreviation(text: str) -> bool:
    """Whether ``text`` is a short name jieba cuts into single characters (门特, 优粤卡): a word of its own."""
    return (
        2 <= len(text) <= 4
        and all("\u4e00" <= character <= "\u9fff" for character in text)
        and all(len(word) == 1 for word in jieba_tokenizer().lcut(text, HMM=False))
    )


def _pairs(text: str) -> list[str]:
    """The character pairs of ``text`` (marked ``#``) whose characters are not weak and not digits."""
    return [
        "#" + text[i : i + 2]
        for i in range(len(text) - 1)
        if text[i] not in WEAK_CHARS and text[i + 1] not in WEAK_CHARS and not text[i : i + 2].isdigit()
    ]


def split_name(name: str) -> tuple[str, str]:
    """``事项(情形)`` → (``事项``, ``情形``); a name without a trailing bracket → (name, "")."""
    match = _BRACKETED.match(name.strip())
    if match and len(match.group(1)) >= 2:
        return match.group(1), match.group(2).strip("（）() ")
    return name.strip(), ""


def family(name: str) -> str:
    """What variants of one service share: the name without its bracket, 进度查询 or 预约 suffix."""
    base, _ = split_name(name)
    base = clean(base)
    return re.sub(r"(办证进度查询|办理进度查询|进度查询|预约申请|申请预约|预约)$", "", base) or base


def kind_of(name: str) -> str:
    """``progress``, ``lookup``, ``appointment`` or ``service``, by how the name ends."""
    base = clean(split_name(name)[0])
    if base.endswith("进度查询"):
        return "progress"
    if re.search(r"(查询|查验|公示|公布|下载|名录发布|地图)$", base):
        return "lookup"
    if re.search(r"(预约|预约申请|申请预约)$", base):
        return "appointment"
    return "service"


def action_prior(name: str, query: str) -> float:
    """A name whose action (注销, 迁出, 补发…) the question does not mention ranks a little lower."""
    base, qualifier = split_name(name)
    tail = clean(qualifier or base)[-6:]
    for action, said in _ACTIONS.items():
        if action in tail:
            return 1.05 if re.search(said, query) else 0.85
    return 1.0


def kind_prior(kind: str, query: str) -> float:
    """How much the kind of a service fits what was asked (a multiplier around 1)."""
    progress = bool(_PROGRESS_WORDS.search(query))
    lookup = progress or bool(_LOOKUP_WORDS.search(query))
    if kind == "progress":
        return 1.25 if progress else 0.6
    if kind == "lookup":
        return 1.15 if lookup else 0.85
    if kind == "appointment":
        return 1.1 if _APPOINTMENT_WORDS.search(query) else 1.0
    return 0.9 if progress else 1.0


# A term in more than this share of the documents (and more than COMMON_TERM_MIN of them) is common to
# services, not distinctive of one: 申请 is in the materials of 24% of the real catalogue's services,
# 申请表 12%, 身份证 16%; 户口簿 2%, 照片 3%, 营业执照 4%.
COMMON_TERM_SHARE = 0.1
COMMON_TERM_MIN = 2


class FieldIndex:
    """BM25 over one text per document."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        import bm25s  # here, not at import time: it loads jax (two seconds), which commands without a search never need

        corpus = [tokens(text) or ["∅"] for text in texts]
        self._terms = [frozenset(terms) for terms in corpus]
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        self._bm25.index(corpus, show_progress=False)
        self.size = len(corpus)
        frequency = Counter(term for terms in self._terms for term in terms)
        most = max(COMMON_TERM_MIN, COMMON_TERM_SHARE * self.size)
        # Words of many services (申请, in a quarter of all materials), so of none in particular.
        self.common = frozenset(term for term, count in frequency.items() if count > most)

    def words(self) -> set[str]:
        """Every word of the documents (their character pairs left out)."""
        return {term for terms in self._terms for term in terms if not term.startswith("#")}

    def knows(self, term: str) -> bool:
        """Whether some document has the term."""
        return term in self._bm25.vocab_dict

    def terms(self, document: int) -> frozenset[str]:
        """The terms of one document."""
        return self._terms[document]

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """BM25 score of every document for the query's terms."""
        if not query_terms or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        known = [t for t in query_terms if t in self._bm25.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)


def name_text(name: str, aliases: Iterable[str], situations: Iterable[str]) -> str:
    """What a service is called: its name, its name's parts, its aliases and situations."""
    base, qualifier = split_name(name)
    parts = [clean(name), clean(base), clean(qualifier), *(clean(a) for a in aliases), *(clean(s) for s in situations)]
    return " ".join(p for p in parts if p)


def document_text(name: str, department: str, materials: Iterable[str]) -> str:
    """Everything a service publishes that a citizen may say: name, department, materials (short)."""
    parts = [clean(name), clean(department), *(clean(m)[:40] for m in materials)]
    return " ".join(p for p in parts if p)
