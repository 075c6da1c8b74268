"""Messages of the web message board (网上留言) turned into work orders: ``python -m bot orders import PATH``.

A file is JSON Lines (one object a line) or CSV (a header line), with the fields ``title``,
``text`` and, optionally, ``district``, ``address``, ``phone``, ``created_at`` (ISO date-time: China
time unless it carries an offset),
``type`` (咨询/求助/投诉/举报/建议) and ``category`` (``first/second`` or ``first/second/third``, when the board already
classified it). The whole file is checked, classified and routed first; a single bad record
refuses the file (every error listed with its line number) and nothing is stored. Good files are
stored in one transaction, oldest message first.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.core.clock import UTC, parse_moment
from bot.core.db import Database
from bot.core.imports import FileRefused, json_lines
from bot.core.settings import Settings
from bot.work_orders.filing import (
    UNASSIGNED,
    FiledOrder,
    InvalidOrder,
    NewOrder,
    Prepared,
    prepare,
    store_prepared,
)

FIELDS = frozenset({"title", "text", "district", "address", "phone", "created_at", "type", "category"})
SOURCE = "board"
MAX_TITLE = 200
# Where a message without a posting time sorts: before every other.
OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Unreadable:
    """A line that could not be read as a record, and why."""

    why: str


class BoardImportRefused(FileRefused):
    """A file with errors: nothing of it was stored."""


@dataclass(frozen=True)
class ImportReport:
    """What an import filed."""

    filed: tuple[FiledOrder, ...]

    def by_department(self) -> list[tuple[str, int]]:
        """How many orders each department got (待分派: the dispatcher queue), most first."""
        counts = Counter(order.department or UNASSIGNED for order in self.filed if order.duplicate_of is None)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    @property
    def queued(self) -> int:
        """How many went to the dispatcher queue."""
        return sum(1 for order in self.filed if order.department is None and order.duplicate_of is None)

    @property
    def merged(self) -> int:
        """How many were merged into an open order as duplicates."""
        return sum(1 for order in self.filed if order.duplicate_of is not None)


def _rows(path: Path) -> tuple[list[tuple[int, Any]], list[str]]:
    """The file's records with their line numbers, and the errors met while reading."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        return [], [f"{path.name}: cannot read: {error.strerror}"]
    except UnicodeDecodeError:
        return [], [f"{path.name}: not UTF-8 text"]
    rows: list[tuple[int, Any]] = []
    errors: list[str] = []
    if path.suffix in (".jsonl", ".ndjson"):
        for line_number, value in json_lines(text):
            if isinstance(value, json.JSONDecodeError):
                value = _Unreadable(f"不是有效的JSON（{value.msg}）")
            rows.append((line_number, value))
    elif path.suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        for row in reader:
            if None in row:
                rows.append((reader.line_num, _Unreadable("列数多于表头")))
                continue
            rows.append((reader.line_num, {key: value for key, value in row.items() if value not in (None, "")}))
    else:
        errors.append(f"{path.name}: expected a .jsonl or .csv file")
    if not rows and not errors:
        errors.append(f"{path.name}: no messages")
    return rows, errors


def _category(raw: Any) -> tuple[str, ...] | None:
    """``一级/二级`` or ``一级/二级/三级`` as a tuple of levels (checked against the tree when filed)."""
    if raw in (None, ""):
        return None
    levels = tuple(level.strip() for level in str(raw).strip().split("/"))
    if len(levels) not in (2, 3) or not all(levels):
        raise InvalidOrder(f"category应写成“一级/二级”或“一级/二级/三级”，不是“{raw}”")
    return levels


def _record(raw: Any, line: int, errors: list[str]) -> tuple[datetime | None, Prepared] | None:
    """Check, classify and route one record; errors are added with its line number."""
    where = f"第{line}行"
    if isinstance(raw, _Unreadable):
        errors.append(f"{where}：{raw.why}")
        return None
    if not isinstance(raw, dict):
        errors.append(f"{where}：应为一个对象（title、text等字段）")
        return None
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        errors.append(f"{where}：未知字段{'、'.join(map(str, unknown))}（可用字段：{'、'.join(sorted(FIELDS))}）")
        return None
    title = str(raw.get("title") or "").strip()
    text = str(raw.get("text") or "").strip()
    if not text:
        errors.append(f"{where}：缺少留言内容text")
        return None
    if len(title) > MAX_TITLE:
        errors.append(f"{where}：标题超过{MAX_TITLE}字")
        return None
    received: datetime | None = None
    if raw.get("created_at"):
        try:
            received = parse_moment(str(raw["created_at"]))  # without an offset: China time
        except ValueError:
            errors.append(f"{where}：created_at应为ISO格式的时间，如2026-11-27T09:30")
            return None
    try:
        order = NewOrder(
            type=str(raw["type"]).strip() if raw.get("type") else None,
            title=title,
            summary=text,
            district=str(raw.get("district") or "") or None,
            address=str(raw.get("address") or "") or None,
            contact_phone=str(raw.get("phone") or "") or None,
            category=_category(raw.get("category")),
            source=SOURCE,
            received_at=received,
        )
        return received, prepare(order)
    except InvalidOrder as error:
        errors.append(f"{where}：{error}")
        return None


def read_board_file(path: Path) -> list[Prepared]:
    """Check, classify and route every message of a file, oldest first; ``BoardImportRefused`` on any error."""
    rows, errors = _rows(path)
    records = []
    for line, raw in rows:
        record = _record(raw, line, errors)
        if record is not None:
            records.append((line, record))
    if errors:
        raise BoardImportRefused(errors)
    records.sort(key=lambda item: (item[1][0] or OLDEST, item[0]))
    return [prepared for _, (_, prepared) in records]


async def import_board_file(
    database: Database, path: Path, now: datetime, *, settings: Settings | None = None
) -> ImportReport:
    """File every message of a board export as a work order, all or nothing."""
    prepared = await asyncio.to_thread(read_board_file, path)  # the classifier may be loading its model
    return ImportReport(tuple(await store_prepared(database, prepared, now, settings=settings)))
