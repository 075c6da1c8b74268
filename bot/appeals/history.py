"""A centre's labelled history (past messages with their categories), read and checked whole before training.

A file is CSV (UTF-8, a header line) or JSON Lines (``.jsonl``/``.ndjson``, one object a line) with the
fields ``title`` (may be empty), ``text``, ``level1`` (required), ``level2`` and ``level3`` (optional) and
``type`` (optional: 投诉/举报/求助/建议/咨询). Every label must be a path of the classification tree
(``bot.appeals.categories.known_path``). Any bad record refuses the whole file, every error named by its
line number.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.appeals.categories import TYPES, CategoryError, known_path, load_taxonomy
from bot.core.imports import FileRefused, json_lines

FIELDS = ("title", "text", "level1", "level2", "level3", "type")
# A CSV's header must name these; a JSON object must give the last two (a missing title is an empty one).
REQUIRED_COLUMNS = ("title", "text", "level1")
MAX_TITLE_CHARS = 200
MAX_TEXT_CHARS = 5000
SUFFIXES = (".csv", ".jsonl", ".ndjson")


class HistoryRefused(FileRefused):
    """A history file with errors: nothing was trained or written."""


@dataclass(frozen=True)
class HistoryRecord:
    """One labelled message of the centre; ``level2``, ``level3`` and ``type`` are empty when not given."""

    line: int
    title: str
    text: str
    level1: str
    level2: str
    level3: str
    type: str

    @property
    def pair(self) -> tuple[str, str] | None:
        """(level1, level2), or None when the record gives no second level."""
        return (self.level1, self.level2) if self.level2 else None


@dataclass(frozen=True)
class History:
    """A checked history file: its records and the SHA-256 of its bytes."""

    path: Path
    sha256: str
    records: tuple[HistoryRecord, ...]


def label_problem(level1: str, level2: str, level3: str) -> str | None:
    """What is wrong with a record's labels against the classification tree, or None.

    The one place that asks the tree (``known_path``); an empty level means "not given".
    """
    if not known_path(level1):
        return f"未知的一级分类“{level1}”"
    if level3 and not level2:
        return "给了三级分类level3就须给二级分类level2"
    if level2 and not known_path(level1, level2):
        return f"“{level2}”不是“{level1}”下的二级分类"
    if level3 and not known_path(level1, level2, level3):
        return f"“{level3}”不是“{level1}/{level2}”下的三级分类"
    return None


def _field(raw: Mapping[str, object], name: str, where: str, errors: list[str]) -> str:
    """A field as stripped text ("" when absent or null); a non-text value is an error."""
    value = raw.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(f"{where}：{name}应为文本，不是{json.dumps(value, ensure_ascii=False)}")
        return ""
    return value.strip()


def _record(line: int, raw: object, errors: list[str]) -> HistoryRecord | None:
    """Check one record; its errors are added with its line number."""
    where = f"第{line}行"
    if not isinstance(raw, dict):
        errors.append(f"{where}：应为一个对象（title、text、level1等字段）")
        return None
    unknown = sorted(str(key) for key in raw if key not in FIELDS)
    if unknown:
        errors.append(f"{where}：未知字段{'、'.join(unknown)}（可用字段：{'、'.join(FIELDS)}）")
        return None
    found: list[str] = []
    values = {name: _field(raw, name, where, found) for name in FIELDS}
    if not values["text"]:
        found.append(f"{where}：留言内容text是空的")
    elif len(values["text"]) > MAX_TEXT_CHARS:
        found.append(f"{where}：留言内容超过{MAX_TEXT_CHARS}字")
    if len(values["title"]) > MAX_TITLE_CHARS:
        found.append(f"{where}：标题超过{MAX_TITLE_CHARS}字")
    if not values["level1"]:
        found.append(f"{where}：缺少一级分类level1")
    else:
        problem = label_problem(values["level1"], values["level2"], values["level3"])
        if problem:
            found.append(f"{where}：{problem}")
    if values["type"] and values["type"] not in TYPES:
        found.append(f"{where}：未知的诉求类型“{values['type']}”（可用：{'/'.join(TYPES)}）")
    if found:
        errors.extend(found)
        return None
    return HistoryRecord(line=line, **values)


def _csv_rows(text: str, errors: list[str]) -> list[tuple[int, object]]:
    """(line, record) of a CSV text; a bad header or row is an error."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        errors.append(f"第1行：表头缺少{'、'.join(missing)}列（表头须有{','.join(REQUIRED_COLUMNS)}）")
        return []
    unknown = [name for name in header if name not in FIELDS]
    if unknown or len(set(header)) != len(header):
        errors.append(f"第1行：表头有未知或重复的列{'、'.join(unknown) or ''}（可用：{','.join(FIELDS)}）")
        return []
    reader.fieldnames = header
    rows: list[tuple[int, object]] = []
    line = 1
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                errors.append(f"第{line}行：列数多于表头")
            elif any(value is None for value in row.values()):
                errors.append(f"第{line}行：列数少于表头")
            elif any(str(value).strip() for value in row.values()):
                rows.append((line, dict(row)))
    except csv.Error as error:
        errors.append(f"第{line + 1}行：不是有效的CSV（{error}）")
    return rows


def _jsonl_rows(text: str, errors: list[str]) -> list[tuple[int, object]]:
    """(line, record) of a JSON Lines text; a line that is not JSON is an error."""
    rows: list[tuple[int, object]] = []
    for line, value in json_lines(text):
        if isinstance(value, json.JSONDecodeError):
            errors.append(f"第{line}行：不是有效的JSON（{value.msg}，第{value.colno}个字符）")
        else:
            rows.append((line, value))
    return rows


def _decode(data: bytes, name: str) -> str:
    """UTF-8 text (a BOM is dropped); bad bytes refuse the file, naming their line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise HistoryRefused([f"第{line}行：不是UTF-8编码的文本（{name}第{error.start + 1}个字节）"]) from error


def read_history(path: Path) -> History:
    """Read and check a whole history file; ``HistoryRefused`` lists every error by line."""
    if path.suffix.lower() not in SUFFIXES:
        raise HistoryRefused([f"{path.name}：应为 .csv 或 .jsonl 文件"])
    try:
        data = path.read_bytes()
    except OSError as error:
        raise HistoryRefused([f"{path}：无法读取（{error.strerror}）"]) from error
    text = _decode(data, path.name)
    try:
        load_taxonomy()  # a missing tree is one clear error, not one per record
    except CategoryError as error:
        raise HistoryRefused([f"分类体系不可用：{error}"]) from error
    errors: list[str] = []
    rows = _csv_rows(text, errors) if path.suffix.lower() == ".csv" else _jsonl_rows(text, errors)
    records = []
    seen: dict[str, int] = {}
    for line, raw in rows:
        record = _record(line, raw, errors)
        if record is None:
            continue
        key = " ".join(f"{record.title}\n{record.text}".split())
        if key in seen:
            errors.append(f"第{line}行：与第{seen[key]}行是同一条留言")
            continue
        seen[key] = line
        records.append(record)
    if not errors and not records:
        errors.append(f"{path.name}：没有留言")
    if errors:
        raise HistoryRefused(errors)
    return History(path=path, sha256=hashlib.sha256(data).hexdigest(), records=tuple(records))
