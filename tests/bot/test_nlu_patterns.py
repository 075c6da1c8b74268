"""The regexes of data/nlu/entities.yml that own the number entities: what they take and what they leave."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.core.numerals import digit_runs
from bot.core.settings import PROJECT_ROOT


def pattern(name: str) -> re.Pattern[str]:
    """The one regex of ``name`` in the NLU data, as the RegexEntityExtractor compiles it (case-insensitive)."""
    data = yaml.safe_load((PROJECT_ROOT / "data" / "nlu" / "entities.yml").read_text(encoding="utf-8"))
    [entry] = [item for item in data["nlu"] if item.get("regex") == name]
    [regex] = [line[2:] for line in entry["examples"].splitlines() if line.startswith("- ")]
    return re.compile(regex, re.IGNORECASE)


@pytest.mark.parametrize(
    "said",
    [
        "查一下 20261120000158",
        "查 2026 1120 0001 58",  # written in groups, as on the receipt
        "编号2026-1120-000158的进度",
        "编号是 二零二六 一一二零 零零零 一五八",
    ],
)
def test_a_case_number_is_found_written_whole_or_in_groups(said: str) -> None:
    found = pattern("case_number").search(said)
    assert found is not None and digit_runs(found.group()) == ["20261120000158"]


@pytest.mark.parametrize("said", ["13912345678", "440106199001011234", "2026112000015", "202611200001589"])
def test_other_numbers_are_not_case_numbers(said: str) -> None:
    assert pattern("case_number").search(said) is None
