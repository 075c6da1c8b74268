"""The two-level category tree of citizen appeals, the appeal types and Guangzhou's districts."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core.settings import PROJECT_ROOT

CATEGORIES_PATH = PROJECT_ROOT / "data" / "appeals" / "categories.yml"

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
    """The category file is missing, unreadable or breaks the tree's rules."""


class DataFileError(ValueError):
    """A YAML data file that cannot be read as written (syntax, a key given twice)."""


class LineMapping(dict):
    """A YAML mapping that remembers the line it starts on and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[object, int]


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice and records where each mapping starts."""

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
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except DataFileError as error:
        raise DataFileError(f"{source}: {error}") from error
    except yaml.YAMLError as error:
        raise DataFileError(f"{source}: not valid YAML: {error}") from error


@dataclass(frozen=True)
class CategoryTree:
    """First levels in the file's order, each with its second levels."""

    children: dict[str, tuple[str, ...]]

    def first_levels(self) -> tuple[str, ...]:
        """The first-level names."""
        return tuple(self.children)

    def second_levels(self, first: str) -> tuple[str, ...]:
        """The second-level names under ``first`` (empty for an unknown first level)."""
        return self.children.get(first, ())

    def is_valid(self, first: str, second: str) -> bool:
        """Whether ``second`` is a child of ``first``."""
        return second in self.children.get(first, ())

    def pairs(self) -> list[tuple[str, str]]:
        """Every (first, second) pair, in the file's order."""
        return [(first, second) for first, seconds in self.children.items() for second in seconds]


def parse_categories(text: str, source: str = "categories.yml") -> CategoryTree:
    """Build the tree from YAML text; raises ``CategoryError`` naming what is wrong."""
    try:
        raw = load_strict_yaml(text, source)
    except DataFileError as error:
        raise CategoryError(str(error)) from error
    if not isinstance(raw, dict):
        raise CategoryError(f"{source}: expected a mapping of first levels to lists of second levels")
    children: dict[str, tuple[str, ...]] = {}
    for first, seconds in raw.items():
        if first not in FIRST_LEVELS:
            raise CategoryError(f"{source}: unknown first level {first!r} (allowed: {'、'.join(FIRST_LEVELS)})")
        if not isinstance(seconds, list) or not seconds:
            raise CategoryError(f"{source}: {first} must list at least one second level")
        seen: list[str] = []
        for second in seconds:
            if not isinstance(second, str) or not second.strip():
                raise CategoryError(f"{source}: {first} has a second level that is not a name: {second!r}")
            if second in seen:
                raise CategoryError(f"{source}: {first} lists the second level {second!r} twice")
            seen.append(second)
        children[first] = tuple(seen)
    missing = [first for first in FIRST_LEVELS if first not in children]
    if missing:
        raise CategoryError(f"{source}: first levels missing: {'、'.join(missing)}")
    return CategoryTree(children)


def read_categories(path: Path) -> CategoryTree:
    """Read and validate a category file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CategoryError(f"{path}: cannot read: {error.strerror}") from error
    return parse_categories(text, path.name)


@functools.lru_cache(maxsize=1)
def load_categories() -> CategoryTree:
    """The project's category tree (data/appeals/categories.yml), read once per process."""
    return read_categories(CATEGORIES_PATH)
