"""A centre's trained appeal model on disk: written whole with a manifest, loaded only when it is whole and compatible.

A model folder holds ``model.joblib`` (the fitted ``CentreClassifier``) and ``manifest.json``: when and from
which file (its SHA-256) it was trained, the counts, the cross-validated accuracy, the library versions, and
the SHA-256 of ``model.joblib``. The manifest is written last, so a half-written folder never loads. A model
written by another model format or another scikit-learn version (whose fitted objects do not load reliably
across versions) is refused with a message that says to train again; so is one that answers categories the
classification tree no longer has. ``APPEAL_MODEL_DIR`` (``bot.core.settings``) makes every process use one;
a configured folder that is missing or broken is an error, never a silent return to the built-in model.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import platform
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.core.settings import PROJECT_ROOT, get_settings

# What `python -m bot appeals train` writes to without --out.
DEFAULT_MODEL_DIR = PROJECT_ROOT / "var" / "appeal_model"
MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
# Raised whenever the fitted class (bot.appeals.training.CentreClassifier) changes what it holds: 1 → 2 when the
# pair model became calibrated and the first level blended (a model of format 1 would fail at its first message).
MODEL_FORMAT = 2
RETRAIN = "请用 python -m bot appeals train 重新训练"


class AppealModelError(RuntimeError):
    """A trained appeal model that is missing, broken or written by an incompatible version."""


def library_versions() -> dict[str, str]:
    """The versions a fitted model depends on."""
    import jieba
    import joblib
    import numpy
    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
        "jieba": str(getattr(jieba, "__version__", "unknown")),
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model(model: object, manifest: dict[str, Any], directory: Path) -> dict[str, Any]:
    """Write the model, then its manifest (with the model's digest, format and versions); the manifest written."""
    import joblib

    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{MODEL_FILE}.{os.getpid()}.partial"
    joblib.dump(model, partial, compress=3)
    written = {
        "format": MODEL_FORMAT,
        **manifest,
        "model_file": MODEL_FILE,
        "model_sha256": _sha256(partial),
        "versions": library_versions(),
    }
    manifest_partial = directory / f".{MANIFEST_FILE}.{os.getpid()}.partial"
    manifest_partial.write_text(json.dumps(written, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (directory / MANIFEST_FILE).unlink(missing_ok=True)  # no manifest while the model is being replaced
    os.replace(partial, directory / MODEL_FILE)
    os.replace(manifest_partial, directory / MANIFEST_FILE)
    return written


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of a model folder, checked: format, versions and the model file's digest."""
    if not directory.is_dir():
        raise AppealModelError(f"诉求分类模型目录{directory}不存在（{RETRAIN}，或改正APPEAL_MODEL_DIR）")
    path = directory / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise AppealModelError(f"{directory}中没有{MANIFEST_FILE}，不是完整的诉求分类模型（{RETRAIN}）") from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AppealModelError(f"{path}无法读取（{error}）（{RETRAIN}）") from error
    if not isinstance(manifest, dict):
        raise AppealModelError(f"{path}不是模型清单（{RETRAIN}）")
    if manifest.get("format") != MODEL_FORMAT:
        raise AppealModelError(
            f"{directory}的模型格式是{manifest.get('format')!r}，本版本只能读取格式{MODEL_FORMAT}（{RETRAIN}）"
        )
    import sklearn

    written_with = (manifest.get("versions") or {}).get("scikit-learn")
    if written_with != sklearn.__version__:
        raise AppealModelError(
            f"{directory}的模型由scikit-learn {written_with}训练，当前是{sklearn.__version__}，"
            f"不能可靠读取（{RETRAIN}）"
        )
    model_path = directory / MODEL_FILE
    try:
        actual = _sha256(model_path)
    except OSError as error:
        raise AppealModelError(f"{model_path}无法读取（{error.strerror}）（{RETRAIN}）") from error
    if actual != manifest.get("model_sha256"):
        raise AppealModelError(f"{model_path}与清单记录的摘要不符，文件已损坏或被改动（{RETRAIN}）")
    return manifest


@dataclass(frozen=True)
class LoadedModel:
    """A trained model and its manifest."""

    classifier: Any  # a CentreClassifier (bot.appeals.training; scikit-learn is imported only when loading)
    manifest: dict[str, Any]
    directory: Path


def load_model(directory: Path) -> LoadedModel:
    """Load a model folder; ``AppealModelError`` says what is wrong and to train again."""
    import joblib

    from bot.appeals.categories import CategoryError, known_path
    from bot.appeals.training import CentreClassifier

    manifest = read_manifest(directory)
    try:
        classifier = joblib.load(directory / MODEL_FILE)
    except Exception as error:  # any unpickling failure of a file whose digest matched: refused, said why
        raise AppealModelError(
            f"{directory / MODEL_FILE}无法载入（{type(error).__name__}: {error}）（{RETRAIN}）"
        ) from error
    if not isinstance(classifier, CentreClassifier):
        raise AppealModelError(f"{directory / MODEL_FILE}不是诉求分类模型（{RETRAIN}）")
    try:
        unknown = [first for first in classifier.first_levels() if not known_path(first)]
        unknown += [pair for pair in classifier.pairs if not known_path(*pair.split("/", 1))]
    except CategoryError as error:
        raise AppealModelError(f"无法核对模型的分类：{error}") from error
    if unknown:
        raise AppealModelError(f"{directory}的模型含有分类体系中没有的分类：{'、'.join(unknown[:5])}（{RETRAIN}）")
    return LoadedModel(classifier, manifest, directory)


_loading = threading.Lock()


@functools.lru_cache(maxsize=4)
def _cached(directory: Path) -> LoadedModel:
    return load_model(directory)


def model_at(directory: Path) -> LoadedModel:
    """The model of a folder, loaded once per process (one loading at a time)."""
    with _loading:
        return _cached(directory.resolve())


def configured_model() -> LoadedModel | None:
    """The model of ``APPEAL_MODEL_DIR``, or None when the setting is not given (the built-in model is used)."""
    directory = get_settings().appeal_model_dir
    return model_at(directory) if directory is not None else None


def describe(manifest: dict[str, Any]) -> str:
    """One line saying what a model is (for logs and the command line)."""
    trained = manifest.get("trained_at", "?")
    with contextlib.suppress(ValueError):
        trained = datetime.fromisoformat(str(trained)).strftime("%Y-%m-%d %H:%M")
    counts = manifest.get("counts") or {}
    return f"{trained}训练，中心留言{counts.get('history', '?')}条，项目样例{counts.get('examples', '?')}条"
