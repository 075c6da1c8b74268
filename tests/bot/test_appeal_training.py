"""A centre's own appeal model: ``appeals train`` on good and bad files, the model folder, ``classify --model``,
``APPEAL_MODEL_DIR`` at start-up (classify, orders import, the action server) and every way a model can be broken."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.appeals.categories import TYPES, known_path, load_categories
from bot.appeals.classifier import trained_classifier
from bot.appeals.examples import EXAMPLES_PATH, read_examples
from bot.appeals.history import HistoryRefused, read_history
from bot.appeals.model_store import MANIFEST_FILE, MODEL_FILE, MODEL_FORMAT, AppealModelError, load_model
from bot.appeals.routing import route
from bot.appeals.training import CentreClassifier, example_samples
from bot.cli.main import main
from bot.core.clock import china
from bot.core.db import Database
from bot.core.models import WorkOrder
from bot.core.settings import PROJECT_ROOT, get_settings
from bot.work_orders.board_import import import_board_file
from tests.conftest import bot_command
from tests.servers import running_servers

SMALL = PROJECT_ROOT / "tests" / "fixtures" / "appeals" / "centre_small.csv"
HEADER = "title,text,level1,level2,level3,type"
GOOD_ROW = "小区垃圾没人清运,A3区X小区门口垃圾堆了一周无人清运,城乡建设,城市建设和市政管理,环境卫生,投诉"
MESSAGES = [
    {"title": "油烟扰民", "text": "楼下烧烤店的油烟直接熏进我家，窗都不敢开"},
    {"title": "", "text": "我想问一下失业保险金怎么领，交了三年社保"},
    {"title": "培训机构跑路", "text": "孩子报的英语培训班突然关门了，两万块学费退不了"},
]


def _env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "APPEAL_MODEL_DIR"}
    return {**env, **overrides}


def _stdin() -> str:
    return "".join(json.dumps(message, ensure_ascii=False) + "\n" for message in MESSAGES)


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Some of the project's message-board examples (188 of 15 first levels, one with too few to learn): a folder
    for ``appeals train --examples``, which fits the same models on it far faster than on all of them."""
    folder = tmp_path_factory.mktemp("examples")
    for path in sorted([*EXAMPLES_PATH.glob("*_board_short.yml"), *EXAMPLES_PATH.glob("*_board_more.yml")]):
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="module")
def trained(examples: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A model trained by the command on the small history file and the board examples: (its folder, what the
    command printed)."""
    out = tmp_path_factory.mktemp("model") / "appeal_model"
    done = bot_command(
        "appeals", "train", str(SMALL), "--out", str(out), "--examples", str(examples), env=_env(), timeout=600
    )
    assert done.returncode == 0, done.stderr
    return out, done.stdout


@pytest.fixture
def model_copy(trained: tuple[Path, str], tmp_path: Path) -> Path:
    """A copy of the trained model that a test may break."""
    return Path(shutil.copytree(trained[0], tmp_path / "model"))


@pytest.fixture
def model_setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings read again after the test changes APPEAL_MODEL_DIR (and again after it)."""
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("APPEAL_MODEL_DIR", raising=False)
    get_settings.cache_clear()


# ---- training on a good file ----


def test_training_prints_the_cross_validated_accuracy_against_the_plain_svm(
    trained: tuple[Path, str], examples: Path
) -> None:
    _, printed = trained
    assert "已检查centre_small.csv：12条留言（3个一级分类，12条有二级分类，12条有诉求类型）" in printed
    assert f"另用项目样例{len(read_examples(examples, load_categories()))}条" in printed
    assert "交叉验证（4折，按一级分类分层，本中心留言12条" in printed
    assert "普通字符n元线性SVM（同样的折）" in printed
    assert "一级分类准确率" in printed and "二级分类准确率" in printed
    assert "模型已写入" in printed


def test_the_model_folder_has_the_model_and_its_manifest(trained: tuple[Path, str], examples: Path) -> None:
    out, _ = trained
    manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["format"] == MODEL_FORMAT
    assert manifest["source"] == {"file": "centre_small.csv", "sha256": hashlib.sha256(SMALL.read_bytes()).hexdigest()}
    assert manifest["counts"]["history"] == 12
    assert manifest["counts"]["history_by_level1"] == {"城乡建设": 4, "劳动和社会保障": 4, "教育文体": 4}
    assert manifest["counts"]["examples"] == len(read_examples(examples, load_categories())) == 188
    cv = manifest["cross_validation"]
    assert (cv["folds"], cv["messages"], cv["with_second"]) == (4, 12, 12)
    assert 0.0 <= cv["first"] <= 1.0 and 0.0 <= cv["first_plain_svm"] <= 1.0
    import sklearn

    assert manifest["versions"]["scikit-learn"] == sklearn.__version__
    assert manifest["model_sha256"] == hashlib.sha256((out / MODEL_FILE).read_bytes()).hexdigest()
    assert manifest["trained_at"]
    loaded = load_model(out)
    assert isinstance(loaded.classifier, CentreClassifier)


def test_a_jsonl_history_is_read_like_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    records = [
        {"title": "", "text": "公司三个月没发工资", "level1": "劳动和社会保障", "level2": "工资福利", "type": "投诉"},
        {"text": "路灯坏了", "level1": "城乡建设"},  # no title, no second level, no type
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n\n", encoding="utf-8")
    history = read_history(path)
    assert [(r.line, r.title, r.level1, r.level2, r.type) for r in history.records] == [
        (1, "", "劳动和社会保障", "工资福利", "投诉"),
        (2, "", "城乡建设", "", ""),
    ]


# ---- refusing a bad file ----


def _csv(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "history.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        (["标题,内容,城建,,,投诉"], "第2行：未知的一级分类“城建”"),
        ([GOOD_ROW, "t,公司欠薪,劳动和社会保障,物业服务,,投诉"], "第3行：“物业服务”不是“劳动和社会保障”下的二级分类"),
        (
            ["t,路灯坏了,城乡建设,城市建设和市政管理,物业服务,投诉"],
            "第2行：“物业服务”不是“城乡建设/城市建设和市政管理”下的三级分类",
        ),
        (["t,路灯坏了,城乡建设,,环境卫生,投诉"], "第2行：给了三级分类level3就须给二级分类level2"),
        (["t,路灯坏了,城乡建设,,,抱怨"], "第2行：未知的诉求类型“抱怨”"),
        ([GOOD_ROW, "标题,  ,城乡建设,,,投诉"], "第3行：留言内容text是空的"),
        (["t,路灯坏了,,,,投诉"], "第2行：缺少一级分类level1"),
        (["t,路灯坏了,城乡建设,,,投诉,多余"], "第2行：列数多于表头"),
        (["t,路灯坏了,城乡建设"], "第2行：列数少于表头"),
        ([GOOD_ROW, GOOD_ROW], "第3行：与第2行是同一条留言"),
        ([], "history.csv：没有留言"),
    ],
)
def test_a_bad_csv_record_is_refused_with_its_line(tmp_path: Path, rows: list[str], error: str) -> None:
    with pytest.raises(HistoryRefused) as refused:
        read_history(_csv(tmp_path, *rows))
    assert any(line.startswith(error) for line in refused.value.errors), refused.value.errors


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("title,text,level2,type", "第1行：表头缺少level1列"),
        ("text,level1", "第1行：表头缺少title列"),
        ("title,text,level1,leve2", "第1行：表头有未知或重复的列leve2"),
    ],
)
def test_a_csv_without_a_required_column_or_with_an_unknown_one_is_refused(
    tmp_path: Path, header: str, error: str
) -> None:
    with pytest.raises(HistoryRefused) as refused:
        read_history(_csv(tmp_path, "a,b,城乡建设,x", header=header))
    assert any(line.startswith(error) for line in refused.value.errors), refused.value.errors


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        (['{"text": "路灯坏了", "level1": "城乡建设"}', '{"text": "坏的'], "第2行：不是有效的JSON"),
        (['["路灯坏了", "城乡建设"]'], "第1行：应为一个对象"),
        (['{"text": "路灯坏了", "level1": "城乡建设", "level4": "x"}'], "第1行：未知字段level4"),
        (['{"text": 12345, "level1": "城乡建设"}'], "第1行：text应为文本，不是12345"),
    ],
)
def test_a_bad_json_line_is_refused_with_its_line(tmp_path: Path, lines: list[str], error: str) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(HistoryRefused) as refused:
        read_history(path)
    assert any(line.startswith(error) for line in refused.value.errors), refused.value.errors


def test_a_file_that_is_not_utf8_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_bytes(f"{HEADER}\n{GOOD_ROW}\n".encode() + "路灯坏了,城乡建设".encode("gbk") + b"\n")
    with pytest.raises(HistoryRefused) as refused:
        read_history(path)
    assert refused.value.errors[0].startswith("第3行：不是UTF-8编码的文本")


def test_another_kind_of_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(HistoryRefused) as refused:
        read_history(path)
    assert refused.value.errors == ["history.xlsx：应为 .csv 或 .jsonl 文件"]


def test_the_command_refuses_a_bad_file_listing_every_error_and_writes_nothing(tmp_path: Path) -> None:
    path = _csv(tmp_path, GOOD_ROW, "t,公司欠薪,劳动和社会保障,物业服务,,投诉", "t,路灯坏了,城乡建设,,,抱怨")
    out = tmp_path / "model"
    done = bot_command("appeals", "train", str(path), "--out", str(out), env=_env(), timeout=120)
    assert done.returncode == 1
    assert "错误：第3行：“物业服务”不是“劳动和社会保障”下的二级分类" in done.stderr
    assert "错误：第4行：未知的诉求类型“抱怨”" in done.stderr
    assert "训练失败：history.csv有2处错误，未训练，也未写入任何文件。" in done.stderr
    assert not out.exists()
    assert done.stdout == ""


def test_training_with_an_examples_folder_without_examples_is_refused_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "examples"
    empty.mkdir()
    out = tmp_path / "model"
    assert main(["appeals", "train", str(SMALL), "--out", str(out), "--examples", str(empty)]) == 2
    printed = capsys.readouterr()
    assert f"错误：项目的样例数据不可用：{empty}: no example files (*.yml)" in printed.err
    assert not out.exists()


def test_a_category_with_fewer_than_three_messages_is_left_out_with_a_note_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A few examples of each first level (the short board files): some have one or two, too few to calibrate."""
    few = tmp_path / "examples"
    few.mkdir()
    for path in sorted(EXAMPLES_PATH.glob("*_board_short.yml")):
        shutil.copy(path, few / path.name)
    counts = Counter(sample.first for sample in example_samples(read_examples(few, load_categories()), known_path))
    counts.update(record.level1 for record in read_history(SMALL).records)
    rare = sorted(first for first, count in counts.items() if count < 3)
    assert rare  # what this test is about
    out = tmp_path / "model"
    assert main(["appeals", "train", str(SMALL), "--out", str(out), "--examples", str(few)]) == 0
    printed = capsys.readouterr().out
    assert f"提示：以下一级分类的留言和样例合计不足3条，模型不会分到这些分类：{'、'.join(rare)}" in printed
    assert "模型已写入" in printed
    assert not set(rare) & set(load_model(out).classifier.first_levels())


# ---- classify --model and APPEAL_MODEL_DIR ----


def test_classify_with_a_model_answers_in_the_same_format_as_the_built_in_model(trained: tuple[Path, str]) -> None:
    built_in = bot_command("classify", env=_env(), stdin=_stdin(), timeout=180)
    with_model = bot_command("classify", "--model", str(trained[0]), env=_env(), stdin=_stdin(), timeout=180)
    assert (built_in.returncode, with_model.returncode) == (0, 0), with_model.stderr
    answers = [json.loads(line) for line in with_model.stdout.splitlines()]
    assert len(answers) == len(built_in.stdout.splitlines()) == len(MESSAGES)
    for answer, other in zip(answers, map(json.loads, built_in.stdout.splitlines()), strict=True):
        assert list(answer) == list(other) == ["type", "category", "department", "confidence"]
        assert answer["type"] in TYPES
        assert isinstance(answer["category"], list) and len(answer["category"]) >= 2
        assert answer["department"] == route(tuple(answer["category"]), None)
        assert 0.0 <= answer["confidence"] <= 1.0
    assert [a["category"][0] for a in answers] == ["环境保护", "劳动和社会保障", "教育文体"]
    # The setting gives the same answers as --model, and they are not the built-in model's.
    with_setting = bot_command("classify", env=_env(APPEAL_MODEL_DIR=str(trained[0])), stdin=_stdin(), timeout=180)
    assert with_setting.stdout == with_model.stdout
    assert with_model.stdout != built_in.stdout


@pytest.mark.parametrize("how", ["--model", "APPEAL_MODEL_DIR"])
def test_classify_with_a_missing_model_is_an_error_not_the_built_in_model(tmp_path: Path, how: str) -> None:
    missing = tmp_path / "no_model"
    if how == "--model":
        done = bot_command("classify", "--model", str(missing), env=_env(), stdin=_stdin(), timeout=120)
    else:
        done = bot_command("classify", env=_env(APPEAL_MODEL_DIR=str(missing)), stdin=_stdin(), timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"错误：诉求分类模型目录{missing}不存在" in done.stderr


# ---- broken models ----


def test_a_folder_without_a_manifest_is_refused(model_copy: Path) -> None:
    (model_copy / MANIFEST_FILE).unlink()
    with pytest.raises(AppealModelError, match=f"中没有{MANIFEST_FILE}，不是完整的诉求分类模型"):
        load_model(model_copy)


def test_a_changed_model_file_is_refused(model_copy: Path) -> None:
    with (model_copy / MODEL_FILE).open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(AppealModelError, match="与清单记录的摘要不符"):
        load_model(model_copy)


def test_a_missing_model_file_is_refused(model_copy: Path) -> None:
    (model_copy / MODEL_FILE).unlink()
    with pytest.raises(AppealModelError, match="无法读取"):
        load_model(model_copy)


def test_a_model_of_another_scikit_learn_version_is_refused(model_copy: Path) -> None:
    manifest = json.loads((model_copy / MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest["versions"]["scikit-learn"] = "0.24.2"
    (model_copy / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(AppealModelError) as refused:
        load_model(model_copy)
    assert "由scikit-learn 0.24.2训练，当前是" in str(refused.value)
    assert "请用 python -m bot appeals train 重新训练" in str(refused.value)


def test_a_model_of_another_format_is_refused(model_copy: Path) -> None:
    manifest = json.loads((model_copy / MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest["format"] = MODEL_FORMAT - 1
    (model_copy / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(AppealModelError, match=f"模型格式是{MODEL_FORMAT - 1}，本版本只能读取格式{MODEL_FORMAT}"):
        load_model(model_copy)


def test_a_manifest_that_is_not_json_is_refused(model_copy: Path) -> None:
    (model_copy / MANIFEST_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(AppealModelError, match="无法读取"):
        load_model(model_copy)


def test_a_model_file_that_is_not_a_model_is_refused(model_copy: Path) -> None:
    import joblib

    joblib.dump({"not": "a model"}, model_copy / MODEL_FILE)
    manifest = json.loads((model_copy / MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest["model_sha256"] = hashlib.sha256((model_copy / MODEL_FILE).read_bytes()).hexdigest()
    (model_copy / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(AppealModelError, match="不是诉求分类模型"):
        load_model(model_copy)


# ---- the running hotline: orders import and the action server ----

BOARD = [
    {"title": "老师体罚学生", "text": "孩子班主任经常罚站，还让成绩差的学生坐最后一排", "type": "投诉"},
    {"title": "", "text": "我们楼下烧烤店每天营业到凌晨，油烟和吵闹声让人睡不着", "type": "投诉"},
    {"title": "工资拖欠", "text": "公司三个月没发工资了，老板说没钱", "type": "投诉"},
    {"title": "学位申请", "text": "外地户口孩子明年读小学，居住证满一年，怎么申请学位", "type": "咨询"},
    {"title": "物业乱收费", "text": "物业突然把停车费涨了一倍，没有开业主大会", "type": "投诉"},
]


async def test_orders_import_classifies_with_the_model_of_the_setting(
    trained: tuple[Path, str], database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_setting: None
) -> None:
    path = tmp_path / "board.jsonl"
    path.write_text("\n".join(json.dumps(m, ensure_ascii=False) for m in BOARD) + "\n", encoding="utf-8")
    model = load_model(trained[0]).classifier
    expected = [model.predict(m["title"], m["text"]).category for m in BOARD]
    built_in = [trained_classifier().predict(m["title"], m["text"]).category[:2] for m in BOARD]
    assert expected != built_in  # otherwise this test could not tell which model classified
    monkeypatch.setenv("APPEAL_MODEL_DIR", str(trained[0]))
    get_settings.cache_clear()
    report = await import_board_file(database, path, china(2026, 12, 1, 9, 0))
    async with database.session() as session:
        rows = (await session.execute(select(WorkOrder.summary, WorkOrder.category_l1, WorkOrder.category_l2))).all()
    stored = {summary: (first, second) for summary, first, second in rows}
    assert len(report.filed) == len(BOARD)
    assert [stored[m["text"]] for m in BOARD] == expected


def test_orders_import_with_a_broken_model_is_refused_and_stores_nothing(
    model_copy: Path, sqlite_url: str, tmp_path: Path
) -> None:
    (model_copy / MODEL_FILE).write_bytes(b"truncated")
    path = tmp_path / "board.jsonl"
    path.write_text(json.dumps(BOARD[0], ensure_ascii=False) + "\n", encoding="utf-8")
    done = bot_command(
        "orders", "import", str(path), env=_env(DATABASE_URL=sqlite_url, APPEAL_MODEL_DIR=str(model_copy)), timeout=120
    )
    assert done.returncode == 3
    assert "与清单记录的摘要不符" in done.stderr and "APPEAL_MODEL_DIR" in done.stderr
    database_file = Path(sqlite_url.removeprefix("sqlite:///"))
    if database_file.exists():
        with sqlite3.connect(database_file) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "work_orders" in tables:
                assert connection.execute("SELECT count(*) FROM work_orders").fetchone() == (0,)


def test_the_action_server_starts_with_the_model_of_the_setting(trained: tuple[Path, str], tmp_path: Path) -> None:
    with running_servers(tmp_path, with_rasa=False, extra_env={"APPEAL_MODEL_DIR": str(trained[0])}) as servers:
        line = servers.wait_for_log("actions", "appeal model of")
    assert str(trained[0].resolve()) in line and "中心留言12条" in line


def test_the_action_server_does_not_start_with_a_broken_model(model_copy: Path, tmp_path: Path) -> None:
    (model_copy / MANIFEST_FILE).unlink()
    with (
        pytest.raises(RuntimeError) as failed,
        running_servers(tmp_path, with_rasa=False, extra_env={"APPEAL_MODEL_DIR": str(model_copy)}),
    ):
        pass
    assert "the actions server did not start" in str(failed.value)
    assert f"中没有{MANIFEST_FILE}，不是完整的诉求分类模型" in str(failed.value)
