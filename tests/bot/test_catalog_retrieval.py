"""How the catalogue search reads a citizen's words: pieces of names, misspellings, everyday words, intents."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import pytest

from bot.catalog.homophones import Homophones, pinyin_reading
from bot.catalog.retrieval import action_prior, clean, expand, tokens
from bot.catalog.search import CatalogIndex, SearchEntry

# Names shaped like the real catalogue's: many say 申请, several share a stem, some are 进度查询.
NAMES = [
    "广东省人才优粤卡申办",
    "申请环保信息公开",
    "留学申请资格评估",
    "政府信息依申请公开",
    "劳动能力再次鉴定申请",
    "户口迁出",
    "户口页借出",
    "户口页归还",
    "户政业务办理进度查询",
    "机动车驾驶证初次申领",
    "机动车驾驶证持军警驾驶证申领",
    "机动车驾驶证持境外驾驶证申领",
    "办理往来港澳通行证个人游签注",
    "办理往来港澳通行证团队游签注",
    "办理往来台湾通行证个人旅游签注",
    "延期F字签证",
    "延期R字签证",
    "延期G字签证",
    "延期L字签证",
]


@pytest.fixture(scope="module")
def index() -> CatalogIndex:
    return CatalogIndex.from_entries(
        SearchEntry(id=f"s{n}", name=name, department="某部门") for n, name in enumerate(NAMES)
    )


def offered(index: CatalogIndex, query: str) -> list[str]:
    return [m.entry.name for m in index.resolve(query).matches]


def test_character_pairs_cross_the_words_jieba_cuts() -> None:
    # jieba cuts 优粤卡 into single characters, which alone are no index terms.
    assert {"#优粤", "#粤卡"} <= set(tokens("广东省人才优粤卡申办"))


def test_a_name_cut_into_single_characters_is_found(index: CatalogIndex) -> None:
    # Was: every name with 申请 before the card's own (its pieces were never indexed).
    assert offered(index, "优越卡怎么申请 需要什么条件")[0] == "广东省人才优粤卡申办"


def test_misspellings_are_corrected_before_colloquial_words_are_read() -> None:
    # 公正处 is 公证处, and a 公证处 is what the catalogue calls a 公证机构.
    assert "公证机构" in expand("附近的公正处在哪")


@pytest.mark.parametrize(
    ("said", "official"),
    [
        ("想签G签去香港", "港澳"),
        ("女儿嫁去了澳门", "港澳"),
        ("户口迁移", "户籍"),
        ("退伍回来了要去哪里报到", "退役"),
        ("在加拿大考的驾照", "境外"),
        ("去国外开车", "境外"),
        ("买的金手镯有个鉴定证书", "珠宝"),
        ("附近的公正处在哪", "公证机构"),
        ("技校毕业证丢了", "技工院校"),
        ("中间有几个月没交社保", "断缴"),
        ("长沙的社保怎么转过来", "转移"),
        ("帮老人问一下", "老年人"),
        ("小孩的证件", "未成年人"),
    ],
)
def test_everyday_words_are_read_as_the_catalogues(said: str, official: str) -> None:
    assert official in expand(said)


def test_a_foreign_driving_licence_is_a_境外_one(index: CatalogIndex) -> None:
    assert offered(index, "加拿大的驾照能不能直接换成国内驾照")[0] == "机动车驾驶证持境外驾驶证申领"


def test_hong_kong_and_macau_are_港澳(index: CatalogIndex) -> None:
    # Was: 户口页归还 / 户口页借出 first (户口 was the only word a name shared).
    assert "办理往来港澳通行证个人游签注" in offered(index, "我系外省户口喺广州返工 想签G签去香港行街 得唔得㗎")


def test_a_progress_question_finds_the_进度查询_without_the_word(index: CatalogIndex) -> None:
    # Was: 户口迁出, 户口页归还 and 户口页借出; the progress check was not offered.
    assert offered(index, "户口迁移办到哪一步了怎么查")[0] == "户政业务办理进度查询"
    assert "户政业务办理进度查询" not in offered(index, "户口迁出要带什么")


def test_a_visa_is_told_by_what_it_is_for(index: CatalogIndex) -> None:
    # L is the tourist visa; without the word 签证 travel words say nothing of visa letters.
    assert offered(index, "外国朋友来广州旅游 签证快到期了 想多玩几天能延期吗")[0] == "延期L字签证"
    assert "l字" not in expand("跟团去旅游要办什么")


def test_a_variant_for_an_extension_ranks_lower_when_none_is_asked() -> None:
    extension = "乡村建设规划许可证核发(办理《乡村建设规划许可证》延期使用)"
    assert action_prior(extension, "自建房加建一层要办规划许可证吗") < 1.0
    assert action_prior(extension, "规划许可证快到期了能延期吗") > 1.0
    assert action_prior("乡村建设规划许可证核发", "自建房加建一层要办规划许可证吗") == 1.0


# A service and its narrower siblings: the one whose own words were all said comes first.
SIBLINGS = [
    "法律援助律师执业许可(（占编人员）)",
    "法律援助律师执业许可(（聘用人员）)",
    "法律援助",
    "办理往来台湾通行证商务签注",
    "办理往来台湾通行证乘务签注",
    "办理往来台湾通行证定居签注",
    "办理往来台湾通行证",
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("我们家是农村的，没钱请律师，听说政府可以免费派律师，要什么条件才能申请？", "法律援助"),
        ("那个大陆人去台湾的通行证 不是台胞证啊 就是我们自己去台湾那个 到期了怎么换", "办理往来台湾通行证"),
    ],
)
def test_the_service_whose_own_words_were_said_comes_before_narrower_ones(query: str, expected: str) -> None:
    index = CatalogIndex.from_entries(
        SearchEntry(id=f"s{n}", name=name, department="某部门") for n, name in enumerate(SIBLINGS)
    )
    assert offered(index, query)[0] == expected


def test_names_that_score_the_same_are_ordered_by_the_characters_said() -> None:
    # The siblings tie on every field; was: the first four in catalogue order, 移表 not offered.
    index = CatalogIndex.from_entries(
        SearchEntry(id=f"s{n}", name=name, department="供电局")
        for n, name in enumerate(["用电服务暂拆", "用电服务改类", "用电服务增容", "用电服务暂停", "用电服务移表"])
    )
    assert offered(index, "我家电表装在门口老是被人碰，想移到屋里面去，要找供电局吗")[0] == "用电服务移表"


def test_a_cantonese_开间_is_opening_one() -> None:
    assert "设立登记" in expand("我同朋友想合伙开间公司")


# The syllables of this test's characters (the index reads Chinese with pypinyin where it is installed).
SOUNDS = {"底": "di", "低": "di", "保": "bao", "律": "lv", "施": "shi", "师": "shi", "事": "shi", "失": "shi"}
SOUNDS |= {"业": "ye", "过": "guo", "路": "lu", "费": "fei", "废": "fei", "湿": "shi", "发": "fa", "票": "piao"}
SOUNDS |= {"飘": "piao", "飞": "fei"}


def reading(sounds: dict[str, str]) -> Callable[[str], str]:
    """A reading of the given characters as pypinyin gives it (syllables without tones)."""
    return lambda text: " ".join(sounds.get(character, character) for character in text)


read = reading(SOUNDS)


def test_a_word_misspelt_by_its_sound_is_read_as_the_word_it_sounds_like() -> None:
    heard = Homophones(["低保", "律师", "过路费"], read)
    assert heard.hear("底保怎么申请") == ["低保"]
    assert heard.hear("查下这个律施是不是正规的") == ["律师"]
    assert heard.hear("高速过路废怎么算") == ["过路费"]


def test_a_word_of_its_own_is_not_read_as_the_known_word_it_sounds_like() -> None:
    # 事业 and 发飘 are words (jieba knows them): a question about a 事业单位 is not about 失业.
    heard = Homophones(["失业", "发票"], read)
    assert heard.hear("事业单位招聘") == []
    assert heard.hear("心里发飘") == []


def test_a_sound_that_two_known_words_share_is_left_as_it_was() -> None:
    assert Homophones(["事业", "失业"], read).hear("湿业") == []


def test_the_index_hears_the_words_of_its_names() -> None:
    names = [*NAMES, "最低生活保障业务申请预约"]
    entries = [SearchEntry(id=f"s{n}", name=name, department="某部门") for n, name in enumerate(names)]
    # 低保 is the everyday word for 最低生活保障 (EXPANSIONS); 底保 only sounds like it.
    assert offered(CatalogIndex(entries=entries, reading=read), "底保怎么申请")[0] == "最低生活保障业务申请预约"
    assert "最低生活保障业务申请预约" not in offered(CatalogIndex(entries=entries, reading=None), "底保怎么申请")


def test_the_reading_is_pypinyin_where_it_is_installed() -> None:
    pinyin = pinyin_reading()
    if importlib.util.find_spec("pypinyin") is None:
        assert pinyin is None
    else:
        assert pinyin is not None and pinyin("底保") == pinyin("低保") == "di bao"


def test_only_a_slip_of_one_character_is_read_as_the_word() -> None:
    # 信上 sounds like 欣赏, but a slip of the input method changes one character of a word, not two.
    sounds = {"信": "xin", "欣": "xin", "上": "shang", "赏": "shang", "微": "wei"}
    heard = Homophones(["欣赏"], reading(sounds))
    assert heard.hear("微信上的转账记录") == []


def test_cantonese_words_are_read_as_mandarin_before_their_sound_is() -> None:
    # 睇下 is 看下 (have a look), not 地下 (underground); 几钱 is 多少钱, not 寄钱 (sending money).
    assert clean("想过去住一排睇下外孙") == "想过去住一排看下外孙"
    assert clean("过桥费几钱") == clean("过桥费几多钱") == "过桥费多少钱"


def test_a_piece_likelier_as_the_words_typed_is_not_heard_as_the_known_word() -> None:
    # 叫/人 (call someone) is far likelier, by jieba's frequencies, than 交人: no slip.
    sounds = {"叫": "jiao", "交": "jiao", "人": "ren"}
    heard = Homophones(["交人"], reading(sounds))
    assert heard.hear("快叫人来修一下") == []


def test_a_piece_with_a_word_of_the_request_or_a_negation_is_not_heard() -> None:
    # "在手机上办" is not about 上班; "灯不亮" is not about 不良.
    sounds = {"办": "ban", "班": "ban", "上": "shang", "不": "bu", "亮": "liang", "良": "liang"}
    heard = Homophones(["上班", "不良"], reading(sounds))
    assert heard.hear("能不能在手机上办") == []
    assert heard.hear("路灯一半不亮") == []


def test_a_character_jieba_has_never_seen_is_dialect_not_a_slip() -> None:
    # 搵人 is Cantonese for 找人, not a slip for 文人.
    sounds = {"搵": "wen", "文": "wen", "人": "ren"}
    heard = Homophones(["文人"], reading(sounds))
    assert heard.hear("有没有人工我要搵人讲") == []


def test_a_word_heard_is_given_with_the_piece_it_was_heard_in() -> None:
    heard = Homophones(["低保", "律师"], read)
    assert heard.pieces("底保和律施") == [("底保", "低保"), ("律施", "律师")]


def test_a_short_name_jieba_cuts_into_characters_is_a_word_of_its_own() -> None:
    # 城居保 is 城/居/保 to jieba; as an alias it is one word, not only its character pairs.
    assert "城居保" in tokens("城居保")
    assert "城居保" not in tokens("城乡居民养老保险")


def test_an_alias_said_whole_outranks_names_that_share_only_a_generic_word() -> None:
    entries = [SearchEntry(id=f"s{n}", name=name, department="某部门") for n, name in enumerate(NAMES)]
    entries.append(
        SearchEntry(id="pension", name="城乡居民基本养老保险参保登记", department="某部门", aliases=("城居保",))
    )
    assert offered(CatalogIndex.from_entries(entries), "城居保要去哪里申请")[0] == "城乡居民基本养老保险参保登记"


def test_the_words_a_service_publishes_are_not_words_its_name_leaves_out() -> None:
    # Materials a citizen asks about (户口簿, 照片) are the service's own, not another service's words.
    entries = [
        SearchEntry(
            id="marriage", name="婚姻登记", department="民政局", materials=("户口簿", "居民身份证", "近期照片")
        ),
        SearchEntry(id="household", name="户口簿补领", department="派出所"),
        SearchEntry(id="photo", name="证件照片采集", department="派出所"),
    ]
    ranked = CatalogIndex.from_entries(entries).rank("婚姻登记要带户口簿和照片吗")
    assert ranked[0].said_words == 1.0


def _many_forms(word: str) -> list[SearchEntry]:
    """Nine services whose materials all have ``word`` (…申请表), as most of a real catalogue's do."""
    names = ["婚姻登记", "收养登记", "户口迁移", "社团登记", "船舶登记", "商标注册", "专利申请", "出生登记", "证明事项"]
    return [
        SearchEntry(id=f"form{n}", name=name, department="某部门", materials=(f"{name}{word}",))
        for n, name in enumerate(names)
    ]


def test_a_word_most_services_publish_in_their_materials_explains_none_of_them() -> None:
    # 申请 (…申请表 in most materials) is neither explained by 门特's form nor left out by its name.
    entries = [
        *_many_forms("申请表"),
        SearchEntry(
            id="chronic",
            name="门诊特定病种待遇认定",
            department="医保局",
            aliases=("门特",),
            materials=("门诊特定病种待遇申请表",),
        ),
    ]
    index = CatalogIndex.from_entries(entries)
    assert index.search("门特认定要怎么申请")[0].entry.id == "chronic"
    top = index.rank("门特认定要怎么申请")[0]
    assert (top.words, top.said_words) == (1.0, 1.0)


def test_a_word_most_services_publish_counts_where_the_name_says_it() -> None:
    # 证明 is in most materials; said, it is part of what 无犯罪记录证明's name answers, like 犯罪.
    entries = [
        *_many_forms("证明"),
        SearchEntry(id="no-crime", name="无犯罪记录证明", department="公安局"),
        SearchEntry(id="study", name="出国留学资格评估", department="教育厅"),
    ]
    index = CatalogIndex.from_entries(entries)
    assert index.search("我要出国，开无犯罪证明")[0].entry.id == "no-crime"
    top = index.rank("我要出国，开无犯罪证明")[0]
    # 出国 is left out, 犯罪 and 证明 are explained.
    assert top.said_words == 2 / 3
