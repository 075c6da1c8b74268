"""``python -m bot orders show NUMBER --json``: one order as one JSON object, the phone masked."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bot.test_board_import import HOUSING, MESSAGES, _cli, _jsonl

FIELDS = [
    "number", "type", "category", "department", "status", "district", "address", "since",
    "description", "title", "contact", "channel", "created_at", "deadline", "events",
]  # fmt: skip


def test_show_json_prints_the_order_as_one_object(tmp_path: Path) -> None:
    imported = _cli(tmp_path, "import", str(_jsonl(tmp_path / "board.jsonl", MESSAGES[:1])))
    assert imported.returncode == 0, imported.stderr
    listed = _cli(tmp_path, "list", "--department", HOUSING)
    (line,) = [line for line in listed.stdout.splitlines() if line.strip().startswith("WO")]
    number = line.split()[0]

    shown = _cli(tmp_path, "show", number, "--json")
    assert shown.returncode == 0, shown.stderr
    order = json.loads(shown.stdout)
    assert list(order) == FIELDS
    assert order["number"] == number
    assert order["category"] == ["城乡建设", "住房保障与房地产", "物业服务"]
    assert order["department"] == HOUSING
    assert order["district"] == "天河区" and order["address"] == "天河区体育西路103号"
    assert order["description"] == MESSAGES[0]["text"]
    assert order["title"] == "物业不修电梯"
    assert order["contact"] == "139****5678"
    assert "13912345678" not in shown.stdout
    assert order["created_at"].endswith("+08:00") and order["deadline"].endswith("+08:00")
    assert order["deadline"] > order["created_at"]
    assert order["events"] and order["events"][0]["to"] == "已受理"
    assert all(event["at"].endswith("+08:00") for event in order["events"])


def test_show_json_of_a_missing_order_says_so(tmp_path: Path) -> None:
    missing = _cli(tmp_path, "show", "WO2026112899999", "--json")
    assert (missing.returncode, missing.stderr.strip(), missing.stdout) == (1, "错误：没有工单WO2026112899999", "")
