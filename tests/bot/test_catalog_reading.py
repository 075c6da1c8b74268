"""How the search reads everyday words, Cantonese and long questions before it ranks the catalogue."""

from __future__ import annotations

import pytest

from bot.catalog.dialect import DIALECT_WORDS, mandarin
from bot.catalog.focus import asking_part
from bot.catalog.groups import group_prior
from bot.catalog.lexicon import EVERYDAY_WORDS
from bot.catalog.retrieval import clean, expand, tokens
from bot.catalog.search import CatalogIndex, SearchEntry

# Names of the real catalogue, several of them siblings that share most of their words.
NAMES = [
    "企业职工基本养老金申领",
    "企业职工养老保险待遇重核申请",
    "暂停企业职工养老保险待遇申请",
    "恢复企业职工养老保险待遇申请",
    "城镇职工基本养老保险关系转移接续申请",
    "企业职工社会保险费断缴补缴申报",
    "养老保险参保缴费凭证申请",
    "机动车注册登记",
    "机动车驾驶证初次申领",
    "律师事务所设立许可",
    "专职律师执业许可",
    "办理往来港澳通行证",
    "办理及加注普通护照",
    "注册会计师全国统一考试报名",
    "门诊网上预约",
]

# The story of a long question names other services (会计, 社保) than the one it asks for.
A_STORY_THEN_A_QUESTION = (
    "我在佛山做了十年会计，去年搬来广州，社保也转过来了，孩子暑假要去香港玩，想问一下港澳通行证在哪里办，要带什么"
)


@pytest.fixture(scope="module")
def index() -> CatalogIndex:
    return CatalogIndex.from_entries(
        SearchEntry(id=f"s{n}", name=name, department="某部门") for n, name in enumerate(NAMES)
    )


def offered(index: CatalogIndex, query: str) -> list[str]:
    return [m.entry.name for m in index.resolve(query).matches]


@pytest.mark.parametrize(
    ("said", "official"),
    [
        ("我爸下个月想办退休手续", "基本养老金申领"),
        ("新买的电动车怎么上牌", "机动车注册登记"),
        ("几个同学想合伙开个律所", "律师事务所"),
        ("房本上的名字要改", "不动产"),
        ("报税要去哪个窗口", "纳税"),
        ("军嫂的社保怎么转", "随军配偶"),
    ],
)
def test_everyday_words_bring_the_catalogues_words(said: str, official: str) -> None:
    assert official in expand(said)


def test_everyday_words_are_added_never_put_in_place_of_what_was_said() -> None:
    assert expand("想开个律所").startswith("想开个律所")


def test_no_everyday_word_is_a_single_character() -> None:
    # A single character is part of too many words to stand for a service.
    assert all(len(word) >= 2 for word in EVERYDAY_WORDS)


@pytest.mark.parametrize(("said", "not_meant"), [("摩托艇比赛要谁批", "摩托车"), ("留学生办居留", "出国留学")])
def test_a_word_inside_another_service_is_not_read_as_the_everyday_word(said: str, not_meant: str) -> None:
    # 摩托艇 is a boat, and a 留学生 in China is no citizen going abroad to study.
    assert not_meant not in expand(said)


def test_a_plain_question_about_a_new_car_finds_its_registration(index: CatalogIndex) -> None:
    assert offered(index, "刚提了新车 上牌要准备什么")[0] == "机动车注册登记"


def test_cantonese_function_words_are_read_as_mandarin() -> None:
    assert mandarin("我部手机唔见咗") == "我部手机丢了"
    assert clean("佢哋而家喺边度攞证㗎？") == "他们现在在哪里领证"


def test_sentence_particles_are_dropped_only_at_the_end_of_a_clause() -> None:
    assert mandarin("网上办得唔得喎") == "网上办可不可以"
    assert mandarin("喇叭") == "喇叭"


def test_no_dialect_word_changes_the_words_of_official_names() -> None:
    official = ["突发事件紧急处置", "信息系统安全等级保护备案", "啤酒生产许可", "系统集成资质"]
    assert [mandarin(name) for name in official] == official
    assert all(word not in "".join(NAMES) for word in DIALECT_WORDS)


def test_a_cantonese_pension_question_finds_the_pension(index: CatalogIndex) -> None:
    assert offered(index, "我阿爸够钟退休喇 想攞退休金 使唔使去社保局")[0] == "企业职工基本养老金申领"


def test_the_asking_clauses_of_a_long_question_are_told_from_its_story() -> None:
    asked = asking_part(A_STORY_THEN_A_QUESTION)
    assert "港澳通行证在哪里办" in asked
    assert "会计" not in asked and "社保" not in asked


@pytest.mark.parametrize("question", ["港澳通行证在哪里办", "我想办护照，要带什么，多久能拿到"])
def test_a_short_question_is_all_asking(question: str) -> None:
    assert asking_part(question) == ""


def test_a_long_question_is_ranked_by_what_it_asks(index: CatalogIndex) -> None:
    # Was: three pension services, which the story names at length, and the passport fourth.
    question = "我的养老保险交了八年，缴费凭证打过了，待遇也重核过了，现在想问一下护照去哪里办，要多久"
    assert "办理及加注普通护照" in offered(index, question)


SIBLINGS_FOR_GROUPS = [
    "城镇职工基本养老保险关系转移接续申请",
    "退役军人养老保险关系转移接续申请",
    "机关事业单位养老保险关系转移接续申请",
    "未就业随军配偶养老保险关系转移接续申请",
    "机动车驾驶证初次申领(外国人申领摩托车准驾车型)",
    "机动车驾驶证初次申领(港澳台居民申领摩托车准驾车型)",
    "机动车驾驶证初次申领(大陆居民申领摩托车准驾车型)",
]


@pytest.fixture(scope="module")
def siblings() -> CatalogIndex:
    return CatalogIndex.from_entries(
        SearchEntry(id=f"g{n}", name=name, department="某部门") for n, name in enumerate(SIBLINGS_FOR_GROUPS)
    )


def test_group_prior_lowers_a_name_for_a_group_not_said() -> None:
    assert group_prior("退役军人养老保险关系转移接续申请", "养老保险转到广州") < 1.0
    assert group_prior("退役军人养老保险关系转移接续申请", "我退伍了 养老保险转到广州") == 1.0
    assert group_prior("城镇职工基本养老保险关系转移接续申请", "养老保险转到广州") == 1.0


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("在深圳交了几年养老保险 现在回老家了 关系怎么转回去", "城镇职工基本养老保险关系转移接续申请"),
        ("我是退伍回来的 部队那几年的养老保险怎么转接", "退役军人养老保险关系转移接续申请"),
        ("第一次考摩托车驾驶证怎么申领", "机动车驾驶证初次申领(大陆居民申领摩托车准驾车型)"),
    ],
)
def test_a_citizen_who_names_no_group_is_offered_the_general_service_first(
    siblings: CatalogIndex, question: str, expected: str
) -> None:
    assert offered(siblings, question)[0] == expected


@pytest.mark.parametrize("question", ["这笔税能不能缓一缓再交", "当过兵的可不可以读高职", "这里有没有停车场"])
def test_a_yes_no_form_is_no_word_of_the_question(question: str) -> None:
    terms = tokens(expand(question))
    assert not {"不能", "不可", "可以", "没有", "#不能", "#不可", "#没有"} & set(terms)


def test_a_yes_no_question_is_not_matched_by_a_name_that_says_不能() -> None:
    index = CatalogIndex.from_entries(
        SearchEntry(id=f"y{n}", name=name, department="某部门")
        for n, name in enumerate(["对不能避免造成水土流失危害的认定", "退役士兵高等职业教育报名", "技工学校的设立审批"])
    )
    assert "对不能避免造成水土流失危害的认定" not in offered(index, "退伍兵能不能报名读高职")
