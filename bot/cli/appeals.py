"""``python -m bot appeals train FILE`` and ``python -m bot classify [--model DIR]``: a centre's own appeal model."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.appeals.model_store import DEFAULT_MODEL_DIR, AppealModelError
from bot.cli.common import refuse
from bot.core import clock


def add_appeals_parser(commands: Any) -> None:
    """Add ``appeals train`` to the command line's subparsers."""
    appeals = commands.add_parser("appeals", help="诉求分类模型").add_subparsers(dest="action", required=True)
    train = appeals.add_parser(
        "train",
        help="用本中心已分类的留言（CSV或JSONL：title、text、level1，可选level2、level3、type）训练诉求分类模型",
    )
    train.add_argument("path", type=Path, help="已分类的留言文件（.csv 带表头，或 .jsonl）")
    train.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR, help="模型写入的目录（默认 var/appeal_model/）")
    train.add_argument(
        "--examples",
        type=Path,
        default=None,
        help="与本中心留言一起训练的项目样例目录（*.yml，默认 data/appeals/examples/）",
    )


def add_model_option(classify: argparse.ArgumentParser) -> None:
    """``classify --model DIR``."""
    classify.add_argument(
        "--model", type=Path, default=None, help="用此目录中训练好的模型（默认：APPEAL_MODEL_DIR，未设置则用内置模型）"
    )


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def train_command(path: Path, out: Path, examples_path: Path | None = None) -> int:
    """Check the whole file, cross-validate, train on everything and write the model; nothing written on any error.

    ``examples_path`` None: the project's examples (data/appeals/examples).
    """
    from bot.appeals.categories import CategoryError, known_path, load_categories
    from bot.appeals.classifier import trained_classifier
    from bot.appeals.examples import EXAMPLES_PATH, ExampleError, read_examples
    from bot.appeals.history import HistoryRefused, read_history
    from bot.appeals.keywords import KEYWORDS_PATH, read_keywords
    from bot.appeals.model_store import save_model
    from bot.appeals.training import (
        LABEL_MIN,
        CentreClassifier,
        TrainingConfig,
        cross_validate,
        example_samples,
        history_samples,
    )

    try:
        history = read_history(path)
    except HistoryRefused as refused:
        for line in refused.errors:
            print(f"错误：{line}", file=sys.stderr)
        print(f"训练失败：{path.name}有{len(refused.errors)}处错误，未训练，也未写入任何文件。", file=sys.stderr)
        return 1
    try:
        tree = load_categories()
        examples = read_examples(examples_path or EXAMPLES_PATH, tree)
        keywords = read_keywords(KEYWORDS_PATH, tree)
        ours = example_samples(examples, lambda first, second: known_path(first, second))
    except (ExampleError, CategoryError) as error:
        return refuse(f"项目的样例数据不可用：{error}", 2)
    records = history.records
    config = TrainingConfig()
    by_first: dict[str, int] = {}
    for record in records:
        by_first[record.level1] = by_first.get(record.level1, 0) + 1
    with_second = sum(1 for r in records if r.level2)
    print(
        f"已检查{path.name}：{len(records)}条留言（{len(by_first)}个一级分类，{with_second}条有二级分类，"
        f"{sum(1 for r in records if r.type)}条有诉求类型）；另用项目样例{len(ours)}条"
        f"（中心留言占训练权重的{config.history_share:.0%}）。",
        flush=True,
    )
    builtin_model = trained_classifier()
    builtin = builtin_model.predict_many([(r.title, r.text) for r in records])
    builtin_first = sum(r.level1 == b.category[0] for r, b in zip(records, builtin, strict=True)) / len(records)
    builtin_second = (
        sum(bool(r.level2) and (r.level1, r.level2) == b.category[:2] for r, b in zip(records, builtin, strict=True))
        / with_second
        if with_second
        else None
    )

    def progress(fold: int, folds: int) -> None:
        print(f"  交叉验证 第{fold}/{folds}折完成", file=sys.stderr, flush=True)

    cv = cross_validate(records, ours, keywords, config, progress, builtin_model)
    if cv is None:
        print("留言太少（每个一级分类至少2条、至少2个一级分类），无法交叉验证；仍训练模型。")
    else:
        print(f"\n交叉验证（{cv.folds}折，按一级分类分层，本中心留言{cv.messages}条，{cv.seconds:.0f}秒）：")
        print("                     本模型   普通字符n元线性SVM（同样的折）")
        print(f"  一级分类准确率     {_percent(cv.first)}    {_percent(cv.first_plain_svm)}")
        if cv.with_second:
            print(
                f"  二级分类准确率     {_percent(cv.pair)}    {_percent(cv.pair_plain_svm)}"
                f"   （{cv.with_second}条有二级分类）"
            )
    print(f"  内置模型（未用本中心数据）  一级 {builtin_first:.3f}  二级 {_percent(builtin_second)}")
    samples = [*ours, *history_samples(records)]
    model = CentreClassifier(keywords, config, builtin_model).fit(samples)
    manifest = {
        "trained_at": clock.now().isoformat(timespec="seconds"),
        "source": {"file": path.name, "sha256": history.sha256},
        "counts": {
            "history": len(records),
            "history_by_level1": dict(sorted(by_first.items(), key=lambda item: -item[1])),
            "history_with_level2": with_second,
            "history_with_type": sum(1 for r in records if r.type),
            "examples": len(ours),
            "examples_with_known_level2": sum(1 for s in ours if s.pair is not None),
        },
        "config": asdict(config),
        "cross_validation": cv.as_dict() if cv else None,
        "builtin_accuracy_on_history": {
            "first": round(builtin_first, 4),
            "second": round(builtin_second, 4) if builtin_second is not None else None,
        },
    }
    unlearnt = sorted({s.first for s in samples} - set(model.first_levels()))
    if unlearnt:
        print(f"提示：以下一级分类的留言和样例合计不足{LABEL_MIN}条，模型不会分到这些分类：{'、'.join(unlearnt)}")
    missing_second = sorted(
        {first for first in model.first_levels() if not any(p.startswith(first + "/") for p in model.pairs)}
    )
    if missing_second:
        print(f"提示：以下一级分类没有可学的二级分类，分类结果的二级分类将为空：{'、'.join(missing_second)}")
    try:
        save_model(model, manifest, out)
    except OSError as error:
        return refuse(f"无法写入模型目录{out}：{error.strerror}", 2)
    print(f"\n模型已写入 {out}。使用：设置 APPEAL_MODEL_DIR={out}，或 python -m bot classify --model {out}")
    return 0


def classify_command(model_dir: Path | None) -> int:
    """``python -m bot classify``: the model of ``--model``, else the current one; a bad model exits with 2."""
    from bot.appeals.classifier import current_classifier
    from bot.appeals.model_store import model_at
    from bot.appeals.stream import classify_stream

    try:
        model = model_at(model_dir).classifier if model_dir is not None else current_classifier()
    except AppealModelError as error:
        return refuse(error, 2)
    return classify_stream(sys.stdin.buffer, sys.stdout.buffer, model)
