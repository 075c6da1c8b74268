"""Routing an appeal to the responsible department by category and district (data/appeals/routing.yml)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from bot.appeals.categories import (
    DISTRICTS,
    Category,
    CategoryTree,
    DataFileError,
    LineMapping,
    load_categories,
    load_strict_yaml,
)
from bot.core.settings import PROJECT_ROOT

ROUTING_PATH = PROJECT_ROOT / "data" / "appeals" / "routing.yml"
_RULE_KEYS = frozenset({"category", "department", "districts"})
# A rule's department that sends its category to the dispatcher queue (the dispatcher decides, route() gives None).
DISPATCHER = "待分派"
# (first level, second level or None, third level or None, district or None)
RuleKey = tuple[str, str | None, str | None, str | None]


class RoutingError(ValueError):
    """The routing file is unreadable or a rule names an unknown category or district."""


@dataclass(frozen=True)
class RoutingTable:
    """Departments by (first, second or None, third or None, district or None)."""

    departments: dict[RuleKey, str]

    def route(self, category: Category, district: str | None) -> str | None:
        """The most specific rule's department (third level, then second, then first; each with the district
        first), or None when no rule covers the category."""
        first, second = category[0], category[1]
        third = category[2] if len(category) > 2 else None
        if district not in DISTRICTS:
            district = None
        levels: list[tuple[str | None, str | None]] = [(second, third)] if third is not None else []
        levels += [(second, None), (None, None)]
        for level2, level3 in levels:
            for place in (district, None):
                department = self.departments.get((first, level2, level3, place))
                if department is not None:
                    return None if department == DISPATCHER else department
        return None


def _department(value: object, where: str) -> str:
    """A department name, or a RoutingError saying where it is missing."""
    if not isinstance(value, str) or not value.strip():
        raise RoutingError(f"{where}: the department must be a name, not {value!r}")
    return value.strip()


def _category(value: object, tree: CategoryTree, where: str) -> tuple[str, str | None, str | None]:
    """``城乡建设``, ``城乡建设/城乡规划`` or ``城乡建设/城乡规划/违章建筑`` as (first, second, third; None where not
    given), checked against the tree."""
    if not isinstance(value, str) or not value.strip():
        raise RoutingError(f"{where}: category must be 'first', 'first/second' or 'first/second/third', not {value!r}")
    parts = value.strip().split("/")
    first = parts[0]
    if first not in tree.first_levels() or len(parts) > 3:
        raise RoutingError(f"{where}: unknown category {value.strip()!r}")
    if len(parts) == 1:
        return first, None, None
    if not tree.is_valid(first, parts[1]):
        raise RoutingError(f"{where}: {parts[1]!r} is not a second level of {first}")
    if len(parts) == 2:
        return first, parts[1], None
    if not tree.is_known((first, parts[1], parts[2])):
        raise RoutingError(f"{where}: {parts[2]!r} is not a third level of {first}/{parts[1]}")
    return first, parts[1], parts[2]


def parse_routing(text: str, tree: CategoryTree, source: str = "routing.yml") -> RoutingTable:
    """Build the routing table from YAML text; raises ``RoutingError`` naming the line that is wrong."""
    try:
        raw = load_strict_yaml(text, source)
    except DataFileError as error:
        raise RoutingError(str(error)) from error
    if not isinstance(raw, list):
        raise RoutingError(f"{source}: expected a list of rules")
    departments: dict[RuleKey, str] = {}
    lines: dict[RuleKey, int] = {}
    for rule in raw:
        if not isinstance(rule, LineMapping):
            raise RoutingError(f"{source}: every rule must be a mapping, not {rule!r}")
        where = f"{source} line {rule.line}"
        unknown = sorted(set(rule) - _RULE_KEYS)
        if unknown:
            raise RoutingError(f"{where}: unknown keys {', '.join(map(str, unknown))}")
        first, second, third = _category(rule.get("category"), tree, where)
        entries: list[tuple[str | None, str]] = []
        if "department" in rule:
            entries.append((None, _department(rule["department"], where)))
        districts = rule.get("districts", LineMapping())
        if not isinstance(districts, LineMapping) or (not districts and "districts" in rule):
            raise RoutingError(f"{where}: districts must map a district to a department")
        for district, department in districts.items():
            if district not in DISTRICTS:
                raise RoutingError(f"{source} line {districts.key_lines[district]}: unknown district {district!r}")
            entries.append((district, _department(department, f"{where} ({district})")))
        if not entries:
            raise RoutingError(f"{where}: the rule gives neither a department nor districts")
        for district, department in entries:
            key = (first, second, third, district)
            if key in departments:
                raise RoutingError(f"{where}: repeats the rule of line {lines[key]} for {'/'.join(filter(None, key))}")
            departments[key] = department
            lines[key] = rule.line
    return RoutingTable(departments)


def read_routing(path: Path, tree: CategoryTree) -> RoutingTable:
    """Read and validate a routing file against the category tree."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RoutingError(f"{path}: cannot read: {error.strerror}") from error
    return parse_routing(text, tree, path.name)


@functools.lru_cache(maxsize=1)
def load_routing() -> RoutingTable:
    """The project's routing table, read once per process."""
    return read_routing(ROUTING_PATH, load_categories())


def route(category: Category, district: str | None) -> str | None:
    """The department responsible for a category in a district, or None (the dispatcher queue).

    An unknown district counts as none given (the city-wide rules apply); an unknown category has
    no rule, and a category whose rule says 待分派 is left to the dispatcher: both give None.
    """
    return load_routing().route(category, district)
