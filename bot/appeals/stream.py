"""The line-by-line classification of ``python -m bot classify``: one message a line in, one JSON object a line out."""

from __future__ import annotations

import json
from typing import BinaryIO

from bot.appeals.classifier import Predictor, classify

# The longest line `python -m bot classify` accepts (characters).
MAX_LINE_CHARS = 5000


class BadLine(ValueError):
    """A line of ``python -m bot classify`` input that is not a message."""


def parse_line(line: str) -> tuple[str, str]:
    """(title, text) of one input line: JSON ``{"title", "text"}``, ``title<TAB>text`` or just text."""
    line = line.rstrip("\r\n")
    if not line.strip():
        raise BadLine("空行，没有可分类的内容")
    if len(line) > MAX_LINE_CHARS:
        raise BadLine(f"这一行有{len(line)}个字符，最多{MAX_LINE_CHARS}个")
    if line.lstrip().startswith("{"):
        try:
            record = json.loads(line)  # a line starting with "{" is an object or broken
        except json.JSONDecodeError as error:
            raise BadLine(f"不是有效的JSON：{error.msg}（第{error.colno}个字符）") from error
        title, text = record.get("title", ""), record.get("text", "")
        if not isinstance(title, str) or not isinstance(text, str):
            raise BadLine("title 和 text 须为字符串")
        if not (title.strip() or text.strip()):
            raise BadLine("title 和 text 都是空的")
        return title, text
    title, tab, text = line.partition("\t")
    return (title, text) if tab else ("", line)


def classify_stream(source: BinaryIO, sink: BinaryIO, model: Predictor | None = None) -> int:
    """Classify each line of ``source`` (with ``model``, else the current classifier) and write one JSON object a
    line; 1 when any line was refused."""
    failed = False
    for raw in source:
        try:
            title, text = parse_line(raw.decode("utf-8"))
            result = classify(title, text, model)
            answer: dict[str, object] = {
                "type": result.type,
                "category": list(result.category),
                "department": result.department,
                "confidence": result.confidence,
            }
        except UnicodeDecodeError:
            failed = True
            answer = {"error": "这一行不是UTF-8编码的文本"}
        except BadLine as error:
            failed = True
            answer = {"error": str(error)}
        sink.write((json.dumps(answer, ensure_ascii=False) + "\n").encode("utf-8"))
        sink.flush()
    return 1 if failed else 0
