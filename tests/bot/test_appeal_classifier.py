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
    CategoryError,
    load_categories,
    parse_categories,
    read_categories,
)
from bot.appeals.classifier import (
    DEV_PATH,
    EXAMPLES_PATH,
    FRESH_PATH,
    KEYWORDS_PATH,
    MAX_LINE_CHARS,
    BadLine,
    Example,
    ExampleError,
    ModelConfig,
    classify,
    is_held_out,
    normalise,
    parse_line,
    read_examples,
    read_keywords,
    scaled_confidence,
    split_examples,
    trained_classifier,
)
from bot.appeals.routing import route
from bot.core.settings import PROJECT_ROOT

# ---- the category tree ----


def test_project_tree_has_the_fifteen_national_first_levels_in_order() -> None:
    tree = load_categories()
    assert tree.first_levels() == FIRST_LEVELS
    assert all(len(tree.second_levels(first)) >= 4 for first in FIRST_LEVELS)
    assert tree.is_valid("城乡建设", "物业管理")
    assert tree.is_valid("环境保护", "噪声污染")
    assert not tree.is_valid("环境保护", "物业管理")
    assert not tree.is_valid("城建", "物业管理")
    assert tree.second_levels("城建") == ()


def _tree_text(**overrides: str) -> str:
    """A valid tree file, one line a first level, with some first levels replaced."""
    lines = {first: f"{first}: [其他]" for first in FIRST_LEVELS}
    lines.update(overrides)
    return "\n".join(lines.values()) + "\n"


def test_a_valid_minimal_tree_is_read() -> None:
    assert parse_categories(_tree_text(城乡建设="城乡建设: [物业管理, 违章建筑]")).second_levels("城乡建设") == (
        "物业管理",
        "违章建筑",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_tree_text(城乡建设="城市建设: [物业管理]"), "unknown first level '城市建设'"),
        (_tree_text(城乡建设="城乡建设: [物业管理, 物业管理]"), "城乡建设 lists the second level '物业管理' twice"),
        (_tree_text(城乡建设="城乡建设: [a]\n城乡建设: [b]"), "line 2: '城乡建设' is given twice"),
        (_tree_text(城乡建设="城乡建设: []"), "城乡建设 must list at least one second level"),
        (_tree_text(城乡建设="城乡建设: [物业管理, [a]]"), "has a second level that is not a name"),
        (_tree_text(城乡建设=""), "first levels missing: 城乡建设"),
        ("- 城乡建设\n", "expected a mapping"),
        ("城乡建设: [物业管理\n", "not valid YAML"),
    ],
)
def test_a_broken_tree_is_refused_with_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(CategoryError) as refused:
        parse_categories(text)
    assert message in str(refused.value)


def test_a_missing_tree_file_is_a_category_error(tmp_path: Path) -> None:
    with pytest.raises(CategoryError, match="cannot read"):
        read_categories(tmp_path / "categories.yml")


# ---- the labelled examples and their split ----


def test_project_examples_cover_every_category_and_type() -> None:
    tree = load_categories()
    examples = read_examples(EXAMPLES_PATH, tree)
    assert len(examples) >= 3000
    by_first = Counter(e.category[0] for e in examples)
    assert set(by_first) == set(FIRST_LEVELS)
    assert min(by_first.values()) >= 40
    by_pair = Counter(e.category for e in examples)
    assert set(by_pair) == set(tree.pairs())
    assert min(by_pair.values()) >= 8
    assert set(Counter(e.type for e in examples)) == set(TYPES)
    assert all(tree.is_valid(*e.category) for e in examples)


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
        moved = Example(example.title, example.text, "建议", ("民政", "婚姻登记"), "elsewhere.yml line 1")
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
  物业管理:
    - type: 投诉
      title: 物业乱收费
      text: 物业乱收停车费
"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (GOOD_FILE.replace("物业管理:", "物业:"), "a.yml line 3: '物业' is not a second level of 城乡建设"),
        (GOOD_FILE.replace("first: 城乡建设", "first: 城建"), "a.yml line 1: unknown first level '城建'"),
        (GOOD_FILE.replace("type: 投诉", "type: 抱怨"), "a.yml line 4: type must be one of 咨询/求助/投诉/举报/建议"),
        (GOOD_FILE.replace("text: 物业乱收停车费", "text: ''"), "a.yml line 4: expected text"),
        (GOOD_FILE.replace("title: 物业乱收费", "titel: 物业乱收费"), "a.yml line 4: unknown keys titel"),
        (GOOD_FILE.replace("examples:", "samples:"), "expected the keys 'first' and 'examples'"),
        (GOOD_FILE + "  违章建筑: []\n", "违章建筑 must list examples"),
    ],
)
def test_a_broken_examples_file_is_refused_naming_the_line(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ExampleError) as refused:
        read_examples(_examples_folder(tmp_path, body), load_categories())
    assert message in str(refused.value)


def test_the_same_message_twice_is_refused(tmp_path: Path) -> None:
    _examples_folder(tmp_path, GOOD_FILE, "a.yml")
    _examples_folder(tmp_path, GOOD_FILE.replace("物业管理:", "违章建筑:"), "b.yml")
    with pytest.raises(ExampleError, match=r"b.yml line 4: the same message as a.yml line 4"):
        read_examples(tmp_path, load_categories())


def test_a_folder_without_examples_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExampleError, match="no example files"):
        read_examples(tmp_path, load_categories())


def test_project_keywords_cover_every_category_and_type(tmp_path: Path) -> None:
    tree = load_categories()
    keywords = read_keywords(KEYWORDS_PATH, tree)
    assert set(keywords.categories) == set(tree.pairs())
    assert set(keywords.types) == set(TYPES)
    text = KEYWORDS_PATH.read_text(encoding="utf-8").replace("    公车私用: [", "    公车滥用: [")
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
        ("地铁太挤", "早高峰三号线挤不上车，建议加密班次", "交通运输"),
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
    assert load_categories().is_valid(*result.category)
    assert 0.0 <= result.confidence <= 1.0
    assert result.department == route(result.category, None)


def test_the_type_follows_what_the_citizen_asks_for() -> None:
    assert classify("", "请问广州的公租房申请需要什么条件？").type == "咨询"
    assert classify("举报", "举报某餐馆后厨无证经营，卫生极差").type == "举报"
    assert classify("", "建议在学校门口增设红绿灯和减速带").type == "建议"


def test_a_message_with_no_rule_has_no_department() -> None:
    result = classify("停水", "小区突然停水两天了，自来水公司电话打不通，也没有任何通知")
    assert result.category == ("城乡建设", "供水供电供气")
    assert result.department is None


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
    finished = _run_classify(("\n".join(lines) + "\n").encode("utf-8"))
    assert finished.returncode == 0, finished.stderr.decode()
    answers = [json.loads(line) for line in finished.stdout.decode("utf-8").splitlines()]
    assert [answer["category"][0] for answer in answers] == ["环境保护", "交通运输", "劳动和社会保障"]
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
        assert loaded.predict("", "楼下工地半夜施工，噪音很大").category == ("环境保护", "噪声污染")
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
