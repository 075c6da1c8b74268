"""The category tree, the labelled examples and their split, the appeal classifier and `python -m bot classify`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.appeals.categories import (
    FIRST_LEVELS,
    TYPES,
    load_categories,
)
from bot.appeals.classifier import ModelConfig, classify, scaled_confidence, trained_classifier
from bot.appeals.examples import (
    DEV_PATH,
    EXAMPLES_PATH,
    FRESH_PATH,
    Example,
    ExampleError,
    is_held_out,
    read_examples,
    split_examples,
)
from bot.appeals.keywords import KEYWORDS_PATH, read_keywords
from bot.appeals.routing import route
from bot.appeals.stream import MAX_LINE_CHARS, BadLine, parse_line
from bot.appeals.text import normalise
from bot.core.settings import PROJECT_ROOT

# ---- the category tree (read from APPEAL_TAXONOMY_FILE: tests/bot/test_appeal_taxonomy.py) ----


def test_the_tree_has_the_fifteen_national_first_levels_in_order_and_the_real_second_levels() -> None:
    tree = load_categories()
    assert tree.first_levels() == FIRST_LEVELS
    assert tree.is_valid("城乡建设", "城市建设和市政管理")
    assert tree.is_valid("卫生计生", "食品药品监管")
    assert tree.is_valid("政法", "交通管理")
    assert not tree.is_valid("环境保护", "噪声污染")  # a second level of our old tree
    assert tree.is_known(("城乡建设", "城市建设和市政管理", "环境卫生"))
    assert tree.second_levels("城建") == ()


# ---- the labelled examples and their split ----


def test_project_examples_cover_every_category_and_type() -> None:
    tree = load_categories()
    examples = read_examples(EXAMPLES_PATH, tree)
    assert len(examples) >= 3000
    by_first = Counter(e.category[0] for e in examples)
    assert set(by_first) == set(FIRST_LEVELS)
    assert min(by_first.values()) >= 40
    by_pair = Counter(e.category[:2] for e in examples)
    # Every second level a real centre files appeals under has examples (the tree's 其他 ones may have none).
    missing = [pair for pair in tree.pairs() if pair not in by_pair and pair[1] != "其他"]
    assert len(missing) <= 8, missing
    assert set(Counter(e.type for e in examples)) == set(TYPES)
    assert all(tree.is_known(e.category) for e in examples)


def test_held_out_and_train_splits_are_disjoint_and_cover_everything() -> None:
    examples = read_examples(EXAMPLES_PATH, load_categories())
    train, held_out = split_examples(examples)
    assert len(train) + len(held_out) == len(examples)
    assert {e.digest() for e in train}.isdisjoint({e.digest() for e in held_out})
    assert 0.15 < len(held_out) / len(examples) < 0.25
    assert set(Counter(e.category[0] for e in held_out)) == set(FIRST_LEVELS)


def test_the_development_and_fresh_sets_are_valid_and_share_no_message_with_the_examples() -> None:
    tree = load_categories()
    examples = {normalise(f"{e.title}\n{e.text}") for e in read_examples(EXAMPLES_PATH, tree)}
    for path in (DEV_PATH, FRESH_PATH):
        test_set = read_examples(path, tree)
        assert len(test_set) >= 90
        assert {e.category[0] for e in test_set} == set(FIRST_LEVELS)
        assert examples.isdisjoint(normalise(f"{e.title}\n{e.text}") for e in test_set)


def test_the_split_depends_only_on_the_message() -> None:
    examples = read_examples(EXAMPLES_PATH, load_categories())
    for example in examples[:50]:
        moved = Example(example.title, example.text, "建议", ("民政", "社会服务", "婚姻登记"), "elsewhere.yml line 1")
        assert is_held_out(moved) == is_held_out(example)


def test_the_classifier_never_saw_a_held_out_message() -> None:
    _, held_out = split_examples(read_examples(EXAMPLES_PATH, load_categories()))
    fitted = trained_classifier().fitted_digests
    assert fitted
    assert fitted.isdisjoint({e.digest() for e in held_out})


def _examples_folder(tmp_path: Path, body: str, name: str = "a.yml") -> Path:
    (tmp_path / name).write_text(body, encoding="utf-8")
    return tmp_path


GOOD_FILE = """first: 城乡建设
examples:
  住房保障与房地产:
    物业服务:
      - type: 投诉
        title: 物业乱收费
        text: 物业乱收停车费
"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            GOOD_FILE.replace("住房保障与房地产:", "物业管理:"),
            "a.yml line 3: '物业管理' is not a second level of 城乡建设",
        ),
        (
            GOOD_FILE.replace("物业服务:", "物业:"),
            "a.yml line 4: '物业' is not a third level of 城乡建设/住房保障与房地产",
        ),
        (GOOD_FILE.replace("first: 城乡建设", "first: 城建"), "a.yml line 1: unknown first level '城建'"),
        (GOOD_FILE.replace("type: 投诉", "type: 抱怨"), "a.yml line 5: type must be one of 咨询/求助/投诉/举报/建议"),
        (GOOD_FILE.replace("text: 物业乱收停车费", "text: ''"), "a.yml line 5: expected text"),
        (GOOD_FILE.replace("title: 物业乱收费", "titel: 物业乱收费"), "a.yml line 5: unknown keys titel"),
        (GOOD_FILE.replace("examples:", "samples:"), "expected the keys 'first' and 'examples'"),
        (GOOD_FILE + "    房屋租赁: []\n", "房屋租赁 must list examples"),
        (GOOD_FILE + "  城乡规划: []\n", "城乡规划 must map its third levels to lists of examples"),
    ],
)
def test_a_broken_examples_file_is_refused_naming_the_line(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ExampleError) as refused:
        read_examples(_examples_folder(tmp_path, body), load_categories())
    assert message in str(refused.value)


def test_the_same_message_twice_is_refused(tmp_path: Path) -> None:
    _examples_folder(tmp_path, GOOD_FILE, "a.yml")
    _examples_folder(tmp_path, GOOD_FILE.replace("物业服务:", "房屋租赁:"), "b.yml")
    with pytest.raises(ExampleError, match=r"b.yml line 5: the same message as a.yml line 5"):
        read_examples(tmp_path, load_categories())


def test_a_folder_without_examples_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExampleError, match="no example files"):
        read_examples(tmp_path, load_categories())


def test_project_keywords_name_categories_of_the_tree_and_every_type(tmp_path: Path) -> None:
    tree = load_categories()
    keywords = read_keywords(KEYWORDS_PATH, tree)
    assert set(keywords.categories) <= set(tree.pairs())
    examples = read_examples(EXAMPLES_PATH, tree)
    assert {e.category[:2] for e in examples} - set(keywords.categories) == set()  # every learnt level has words
    assert set(keywords.types) == set(TYPES)
    text = KEYWORDS_PATH.read_text(encoding="utf-8").replace("    干部作风: [", "    公车滥用: [")
    (tmp_path / "keywords.yml").write_text(text, encoding="utf-8")
    with pytest.raises(ExampleError, match="'公车滥用' is not under 纪检监察"):
        read_keywords(tmp_path / "keywords.yml", tree)


def _keywords_file(tmp_path: Path, tail: str) -> Path:
    """A keywords file with every category and type of the project (from its own file) and ``tail`` appended."""
    text = KEYWORDS_PATH.read_text(encoding="utf-8").split("\nrewrites:")[0]
    (tmp_path / "keywords.yml").write_text(text + tail, encoding="utf-8")
    return tmp_path / "keywords.yml"


def test_cantonese_spellings_are_rewritten_to_standard_words() -> None:
    keywords = read_keywords(KEYWORDS_PATH, load_categories())
    assert keywords.rewrite(normalise("我哋屋企冇水，佢哋话听日嚟")) == "我们家里没有水,他们话明天来"
    assert keywords.rewrite("电话一直没人接") == "电话一直没人接"  # standard Chinese is left as it is


def test_a_keywords_file_without_rewrites_rewrites_nothing(tmp_path: Path) -> None:
    keywords = read_keywords(_keywords_file(tmp_path, ""), load_categories())
    assert keywords.rewrites == {}
    assert keywords.rewrite("我哋冇水") == "我哋冇水"


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        (
            "\nrewrites:\n  没有: [冇]\n  没: [冇]\n",
            r"keywords.yml line \d+: the spelling '冇' is also rewritten to '没有'",
        ),
        ("\nrewrites: [冇]\n", r"'rewrites' must map standard words to lists of spellings"),
        ("\nrewrites:\n  没有: 冇\n", r"keywords.yml line \d+: expected a list of words"),
        ("\nsynonyms:\n  没有: [冇]\n", r"expected the keys 'categories', 'types' and optionally 'rewrites'"),
    ],
)
def test_broken_rewrites_are_refused_naming_the_line(tmp_path: Path, tail: str, message: str) -> None:
    with pytest.raises(ExampleError, match=message):
        read_keywords(_keywords_file(tmp_path, tail), load_categories())


def test_the_confidence_scaling_keeps_the_order_and_stays_a_probability() -> None:
    config = ModelConfig()
    scaled = [scaled_confidence(raw, config) for raw in (0.0, 0.1, 0.3, 0.5, 0.7, 1.0)]
    assert scaled == sorted(scaled)
    assert all(0.0 <= value <= 1.0 for value in scaled)
    assert scaled_confidence(0.4, ModelConfig(confidence_scaling=(1.0, 0.0))) == pytest.approx(0.4)


# ---- classifying ----


@pytest.mark.parametrize(
    ("title", "text", "first"),
    [
        ("物业不修电梯", "我们小区的电梯坏了两个星期，物业一直拖着不修，老人上下楼很困难", "城乡建设"),
        ("", "楼下大排档每晚吵到凌晨两点，油烟又大，根本睡不着", "环境保护"),
        ("地铁太挤", "早高峰三号线挤不上车，建议加密班次", "城乡建设"),  # 城市建设和市政管理/地铁城铁
        ("老板欠工资", "工厂老板拖欠我们三个月工资，现在人都找不到了", "劳动和社会保障"),
        ("孩子入学", "请问非广州户籍的孩子读公办小学需要什么积分材料", "教育文体"),
        ("", "健身房突然关门跑路，我刚办的年卡三千多块退不了", "商贸旅游"),
        ("举报赌博", "出租屋里每晚有人聚众赌博打麻将到凌晨", "政法"),
        ("公车私用", "周末看到单位的公务车停在商场，司机一家人在逛街", "纪检监察"),
        # Everyday words and phone transcripts (none of them is an example).
        ("", "楼上那家每晚十二点还在剁肉，咚咚响，根本没法睡", "环境保护"),
        ("", "路中间那个大窟窿一直没人补，昨天又有人骑车摔了", "城乡建设"),
        ("", "干了两个月活老板一分钱没给，现在电话也不接", "劳动和社会保障"),
        ("", "我哋屋企由琴晚开始冇水，成栋楼都系咁，佢哋话听日先嚟整", "城乡建设"),
        ("", "阿妈喺老人院俾护工闹，仲食唔饱", "民政"),
    ],
)
def test_clear_messages_get_their_first_level(title: str, text: str, first: str) -> None:
    result = classify(title, text)
    assert result.category[0] == first
    assert load_categories().is_known(result.category)
    assert 0.0 <= result.confidence <= 1.0
    assert result.department == route(result.category, None)


def test_the_type_follows_what_the_citizen_asks_for() -> None:
    assert classify("", "请问广州的公租房申请需要什么条件？").type == "咨询"
    assert classify("举报", "举报某餐馆后厨无证经营，卫生极差").type == "举报"
    assert classify("", "建议在学校门口增设红绿灯和减速带").type == "建议"


def test_the_third_level_is_given_when_the_classifier_is_sure_of_it() -> None:
    result = classify("", "我们这栋楼已经停电两天了")
    assert result.category == ("城乡建设", "城市建设和市政管理", "电力供应")
    assert result.department == "广东电网有限责任公司广州供电局"
    assert classify("", "楼下餐馆油烟太大，每天晚上都熏到我家").category == ("环境保护", "环境污染", "大气污染")


def test_an_unsure_third_level_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    classifier = trained_classifier()
    monkeypatch.setattr(classifier, "config", ModelConfig(third_min_share=1.01))
    result = classifier.predict("", "我们这栋楼已经停电两天了")
    assert result.category == ("城乡建设", "城市建设和市政管理")
    monkeypatch.setattr(classifier, "config", ModelConfig(third_min_confidence=1.01))
    assert classifier.predict("", "我们这栋楼已经停电两天了").category == ("城乡建设", "城市建设和市政管理")
    # Through classify, a category of two levels is routed by its second level.
    assert route(("城乡建设", "城市建设和市政管理"), None) == "广州市城市管理和综合执法局"


def test_an_empty_message_cannot_be_classified() -> None:
    with pytest.raises(ValueError, match="empty"):
        classify(" ", "\n")


def test_held_out_first_level_accuracy_meets_the_goal() -> None:
    _, held_out = split_examples(read_examples(EXAMPLES_PATH, load_categories()))
    results = trained_classifier().predict_many([(e.title, e.text) for e in held_out])
    right = sum(e.category[0] == r.category[0] for e, r in zip(held_out, results, strict=True))
    assert right / len(held_out) >= 0.85


# ---- input lines and the command ----


def test_an_input_line_can_be_json_tab_separated_or_plain_text() -> None:
    assert parse_line('{"title": "标题", "text": "内容"}\n') == ("标题", "内容")
    assert parse_line('{"text": "只有内容"}') == ("", "只有内容")
    assert parse_line("标题\t内容\n") == ("标题", "内容")
    assert parse_line("只有一段话\r\n") == ("", "只有一段话")
    assert parse_line("[紧急]小区停水") == ("", "[紧急]小区停水")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "空行"),
        ("   \t  \n", "空行"),
        ("字" * (MAX_LINE_CHARS + 1), f"最多{MAX_LINE_CHARS}个"),
        ('{"title": "缺引号}', "不是有效的JSON"),
        ('{"title": "x", "text": ["a"]}', "须为字符串"),
        ('{"title": 1, "text": "x"}', "须为字符串"),
        ('{"title": "", "text": " "}', "都是空的"),
    ],
)
def test_a_bad_input_line_is_refused_saying_why(line: str, message: str) -> None:
    with pytest.raises(BadLine, match=message):
        parse_line(line)


def _run_classify(stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "classify"],
        input=stdin,
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=180,
        check=False,
    )


def test_classify_command_answers_one_json_object_per_line() -> None:
    lines = [
        json.dumps({"title": "油烟扰民", "text": "楼下烧烤店的油烟直接熏进我家，窗都不敢开"}, ensure_ascii=False),
        "公交车不停站\t今天早上在棠下村站等车，公交车看到有人招手也不停",
        "请问失业金怎么申领，能领多久",
    ]
    # Where a real centre files them: city buses under 城乡建设 (城市建设和市政管理/公共汽车).
    finished = _run_classify(("\n".join(lines) + "\n").encode("utf-8"))
    assert finished.returncode == 0, finished.stderr.decode()
    answers = [json.loads(line) for line in finished.stdout.decode("utf-8").splitlines()]
    assert [answer["category"][:2] for answer in answers] == [
        ["环境保护", "环境污染"],
        ["城乡建设", "城市建设和市政管理"],
        ["劳动和社会保障", "城镇职工社会保险"],
    ]
    for answer in answers:
        assert set(answer) == {"type", "category", "department", "confidence"}
        assert answer["type"] in TYPES
        assert answer["department"] == route(tuple(answer["category"]), None)
        assert 0.0 <= answer["confidence"] <= 1.0
    assert "环境保护" in finished.stdout.decode("utf-8")  # not escaped as \\uXXXX


def test_classify_command_reports_bad_lines_and_goes_on() -> None:
    stdin = "\n".join(['{"title": "坏的JSON', "", "字" * (MAX_LINE_CHARS + 1), "小区电梯坏了一个月物业不修"]) + "\n"
    finished = _run_classify(stdin.encode("utf-8") + b"\xff\xfe\n")
    assert finished.returncode == 1
    answers = [json.loads(line) for line in finished.stdout.decode("utf-8").splitlines()]
    assert len(answers) == 5
    assert "不是有效的JSON" in answers[0]["error"]
    assert "空行" in answers[1]["error"]
    assert f"最多{MAX_LINE_CHARS}个" in answers[2]["error"]
    assert answers[3]["category"][0] == "城乡建设"
    assert "UTF-8" in answers[4]["error"]


def test_classify_command_with_no_input_prints_nothing() -> None:
    finished = _run_classify(b"")
    assert (finished.returncode, finished.stdout) == (0, b"")


def test_a_fitted_classifier_is_kept_and_a_later_process_loads_it_instead_of_fitting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.appeals import classifier

    trained_classifier()  # fitted (or loaded) and kept under var/cache
    assert (classifier.CACHE_DIR / f"appeal-classifier-{classifier.fingerprint()}.joblib").is_file()
    classifier._fitted.cache_clear()  # as a new process

    def no_fitting(*_: object) -> None:
        raise AssertionError("fitted again although the cache was there")

    monkeypatch.setattr(classifier.AppealClassifier, "fit", no_fitting)
    try:
        loaded = trained_classifier()
        assert loaded.predict("", "楼下工地半夜施工，噪音很大").category == ("环境保护", "环境污染", "噪音污染")
    finally:
        classifier._fitted.cache_clear()


def test_an_unreadable_cache_is_fitted_again_and_replaced(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.appeals import classifier

    monkeypatch.setattr(classifier, "CACHE_DIR", tmp_path)
    cache = tmp_path / f"appeal-classifier-{classifier.fingerprint()}.joblib"
    cache.write_bytes(b"not a pickle")
    fitted: list[int] = []
    monkeypatch.setattr(classifier.AppealClassifier, "fit", lambda self, examples: fitted.append(1) or self)
    classifier._fitted.cache_clear()
    try:
        assert isinstance(trained_classifier(), classifier.AppealClassifier)
    finally:
        classifier._fitted.cache_clear()
    assert fitted == [1] and "unreadable" in caplog.text
    assert cache.read_bytes() != b"not a pickle"
