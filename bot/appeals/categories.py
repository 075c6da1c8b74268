"""The three-level classification tree of citizen appeals (a centre's CSV), the appeal types and Guangzhou's districts.

The tree is not part of the project: it is read from the file that ``APPEAL_TAXONOMY_FILE`` names (by default
``../shared/data/appeal_taxonomy/taxonomy_3level.csv``, the tree a real centre used: 15 first levels, 118
second, 517 third), validated as it is read. A missing or broken file stops the program with an error that
names the file and the line; there is no other tree to fall back to.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core.settings import get_settings

# The CSV's header, exactly.
TAXONOMY_HEADER = ("level1", "level2", "level3")
# A category: (first, second) or (first, second, third).
Category = tuple[str, ...]

# The national first-level classification of citizen appeals, in its usual order.
FIRST_LEVELS = (
    "城乡建设",
    "环境保护",
    "交通运输",
    "劳动和社会保障",
    "教育文体",
    "卫生计生",
    "商贸旅游",
    "民政",
    "农村农业",
    "国土资源",
    "政法",
    "经济管理",
    "科技与信息产业",
    "党务政务",
    "纪检监察",
)
# 诉求类型.
CONSULTATION = "咨询"
HELP = "求助"
COMPLAINT = "投诉"
REPORT = "举报"
SUGGESTION = "建议"
TYPES = (CONSULTATION, HELP, COMPLAINT, REPORT, SUGGESTION)
# Guangzhou's eleven districts.
DISTRICTS = (
    "越秀区",
    "海珠区",
    "荔湾区",
    "天河区",
    "白云区",
    "黄埔区",
    "番禺区",
    "花都区",
    "南沙区",
    "从化区",
    "增城区",
)


class CategoryError(ValueError):
    """The classification tree's file is missing, unreadable or breaks the tree's rules."""


class DataFileError(ValueError):
    """A YAML data file that cannot be read as written (syntax, a key given twice)."""


class LineMapping(dict):
    """A YAML mapping that remembers the line it starts on and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[object, int]


class _StrictLoader(yaml.CSafeLoader):
    """A safe loader (libyaml's parser, several times faster than PyYAML's own) that refuses a key given twice
    and records where each mapping starts."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineMapping:
        """Build the mapping, refusing duplicate keys."""
        mapping = LineMapping()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in mapping:
                raise DataFileError(f"line {key_node.start_mark.line + 1}: {key!r} is given twice")
            mapping[key] = self.construct_object(value_node, deep=deep)
            mapping.key_lines[key] = key_node.start_mark.line + 1
        return mapping


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _StrictLoader.construct_mapping,
)


def load_strict_yaml(text: str, source: str) -> object:
    """Parse YAML safely; a syntax error or a repeated key raises ``DataFileError`` naming the line."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a CSafeLoader subclass
    except DataFileError as error:
        raise DataFileError(f"{source}: {error}") from error
    except yaml.YAMLError as error:
        raise DataFileError(f"{source}: not valid YAML: {error}") from error


@dataclass(frozen=True)
class CategoryTree:
    """First levels in the national order, each with its second levels, each of those with its third levels."""

    children: dict[str, tuple[str, ...]]
    thirds: dict[tuple[str, str], tuple[str, ...]]

    def first_levels(self) -> tuple[str, ...]:
        """The first-level names."""
        return tuple(self.children)

    def second_levels(self, first: str) -> tuple[str, ...]:
        """The second-level names under ``first`` (empty for an unknown first level)."""
        return self.children.get(first, ())

    def third_levels(self, first: str, second: str) -> tuple[str, ...]:
        """The third-level names under ``first``/``second`` (empty for an unknown pair)."""
        return self.thirds.get((first, second), ())

    def is_valid(self, first: str, second: str) -> bool:
        """Whether ``second`` is a child of ``first``."""
        return second in self.children.get(first, ())

    def is_known(self, category: Category) -> bool:
        """Whether a category of two levels (first, second) or three (first, second, third) is in the tree."""
        if len(category) == 2:
            return self.is_valid(category[0], category[1])
        return len(category) == 3 and category[2] in self.thirds.get((category[0], category[1]), ())

    def pairs(self) -> list[tuple[str, str]]:
        """Every (first, second) pair, first levels in the national order, the rest in the file's order."""
        return [(first, second) for first, seconds in self.children.items() for second in seconds]

    def triples(self) -> list[tuple[str, str, str]]:
        """Every (first, second, third) path, in the order of ``pairs``."""
        return [(first, second, third) for first, second in self.pairs() for third in self.thirds[(first, second)]]


def parse_taxonomy(text: str, source: str = "taxonomy_3level.csv") -> CategoryTree:
    """Build the tree from CSV text (header ``level1,level2,level3``); raises ``CategoryError`` naming the line."""
    rows = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = next(rows, None)
    if header is None or tuple(cell.strip() for cell in header) != TAXONOMY_HEADER:
        raise CategoryError(f"{source} line 1: the header must be {','.join(TAXONOMY_HEADER)}, not {header!r}")
    thirds: dict[tuple[str, str], list[str]] = {}
    lines: dict[tuple[str, str, str], int] = {}
    for row in rows:
        line = rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 3:
            raise CategoryError(f"{source} line {line}: expected 3 fields (level1,level2,level3), found {len(row)}")
        first, second, third = (cell.strip() for cell in row)
        if first not in FIRST_LEVELS:
            raise CategoryError(
                f"{source} line {line}: unknown first level {first!r} (allowed: {'、'.join(FIRST_LEVELS)})"
            )
        if not second or not third:
            raise CategoryError(f"{source} line {line}: level2 and level3 must not be empty")
        if (first, second, third) in lines:
            raise CategoryError(
                f"{source} line {line}: {first}/{second}/{third} is already on line {lines[(first, second, third)]}"
            )
        lines[(first, second, third)] = line
        thirds.setdefault((first, second), []).append(third)
    missing = [first for first in FIRST_LEVELS if not any(pair[0] == first for pair in thirds)]
    if missing:
        raise CategoryError(f"{source}: first levels missing: {'、'.join(missing)}")
    children = {first: tuple(second for f, second in thirds if f == first) for first in FIRST_LEVELS}
    return CategoryTree(children, {pair: tuple(names) for pair, names in thirds.items()})


def read_taxonomy(path: Path) -> CategoryTree:
    """Read and validate a tree file; a missing file is an error that says which setting names it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise CategoryError(
            f"{path}: the classification tree of appeals is missing (set APPEAL_TAXONOMY_FILE to the CSV "
            "with the header level1,level2,level3)"
        ) from error
    except OSError as error:
        raise CategoryError(f"{path}: cannot read: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise CategoryError(f"{path}: not UTF-8 text (byte {error.start})") from error
    return parse_taxonomy(text, str(path))


def taxonomy_path() -> Path:
    """The tree's file, as the settings name it."""
    return get_settings().appeal_taxonomy_file


@functools.lru_cache(maxsize=1)
def load_categories() -> CategoryTree:
    """The classification tree of the settings' ``APPEAL_TAXONOMY_FILE``, read once per process."""
    return read_taxonomy(taxonomy_path())


# The name the tree's first readers use.
load_taxonomy = load_categories


def known_path(level1: str, level2: str | None = None, level3: str | None = None) -> bool:
    """Whether level1[/level2[/level3]] is a path of the classification tree (a third level needs a second).

    For validating a centre's labelled history: ``known_path("城乡建设", "城乡规划", None)`` is True,
    ``known_path("城乡建设", None, "违章建筑")`` is False.
    """
    tree = load_categories()
    if level2 is None:
        return level3 is None and level1 in tree.children
    if level3 is None:
        return tree.is_valid(level1, level2)
    return tree.is_known((level1, level2, level3))
