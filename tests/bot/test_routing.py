"""Routing appeals to departments: specificity, the dispatcher queue, and a validated rules file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.appeals.categories import load_categories
from bot.appeals.routing import RoutingError, RoutingTable, load_routing, parse_routing, read_routing, route

RULES = """
- category: 城乡建设
  department: 市住建局
  districts:
    天河区: 天河区住建局
- category: 城乡建设/物业管理
  department: 市物业处
  districts:
    海珠区: 海珠区物业科
"""


def table() -> RoutingTable:
    return parse_routing(RULES, load_categories())


def test_second_level_and_district_is_the_most_specific_rule() -> None:
    assert table().route(("城乡建设", "物业管理"), "海珠区") == "海珠区物业科"


def test_a_second_level_rule_beats_a_first_level_rule_for_the_district() -> None:
    assert table().route(("城乡建设", "物业管理"), "天河区") == "市物业处"
    assert table().route(("城乡建设", "物业管理"), None) == "市物业处"


def test_first_level_rules_cover_the_other_second_levels() -> None:
    assert table().route(("城乡建设", "房屋质量"), "天河区") == "天河区住建局"
    assert table().route(("城乡建设", "房屋质量"), "越秀区") == "市住建局"
    assert table().route(("城乡建设", "房屋质量"), None) == "市住建局"


def test_a_category_no_rule_covers_goes_to_the_dispatcher() -> None:
    assert table().route(("环境保护", "噪声污染"), "天河区") is None
    assert table().route(("环境保护", "噪声污染"), None) is None


def test_an_unknown_district_counts_as_none_and_an_unknown_category_has_no_rule() -> None:
    assert table().route(("城乡建设", "房屋质量"), "东山区") == "市住建局"
    assert table().route(("不存在", "也不存在"), "天河区") is None


def test_project_rules_route_by_district_and_fall_back_to_the_city() -> None:
    assert route(("城乡建设", "物业管理"), "天河区") == "广州市天河区住房和城乡建设局"
    assert route(("城乡建设", "物业管理"), None) == "广州市住房和城乡建设局"
    assert route(("环境保护", "噪声污染"), "海珠区") == "广州市生态环境局海珠区分局"
    assert route(("环境保护", "水污染"), "海珠区") == "广州市海珠区水务局"
    assert route(("劳动和社会保障", "社会保险"), "天河区") == "广州市社会保险基金管理中心"
    # Only the districts with farmland have a district bureau of agriculture.
    assert route(("农村农业", "农业生产"), "从化区") == "广州市从化区农业农村局"
    assert route(("农村农业", "农业生产"), "越秀区") == "广州市农业农村局"


def test_project_rules_leave_exactly_the_intended_categories_to_the_dispatcher() -> None:
    tree = load_categories()
    unrouted = {pair for pair in tree.pairs() if route(pair, None) is None}
    assert unrouted == {
        ("城乡建设", "供水供电供气"),
        ("政法", "司法诉讼"),
        ("经济管理", "营商环境"),
        ("党务政务", "工作作风"),
    }
    for district in ("天河区", "从化区"):
        assert {pair for pair in tree.pairs() if route(pair, district) is None} == unrouted


def test_project_rules_file_is_valid() -> None:
    assert len(load_routing().departments) > 100


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- category: 城建\n  department: x\n", "line 1: unknown first-level category '城建'"),
        ("- category: 城乡建设/物业\n  department: x\n", "line 1: '物业' is not a second level of 城乡建设"),
        (
            "- category: 城乡建设\n  department: x\n  districts:\n    天河区: y\n    东山区: z\n",
            "line 5: unknown district '东山区'",
        ),
        (
            "- category: 环境保护\n  department: x\n- category: 城乡建设\n  department: y\n"
            "- category: 环境保护\n  department: z\n",
            "line 5: repeats the rule of line 1 for 环境保护",
        ),
        ("- category: 城乡建设\n  dept: x\n", "line 1: unknown keys dept"),
        ("- category: 城乡建设\n", "line 1: the rule gives neither a department nor districts"),
        ("- category: 城乡建设\n  department: ''\n", "line 1: the department must be a name"),
        ("- category: 城乡建设\n  department: x\n  department: y\n", "line 3: 'department' is given twice"),
        ("- category: 城乡建设\n  districts: [天河区]\n", "line 1: districts must map a district to a department"),
        ("category: 城乡建设\n", "expected a list of rules"),
        ("- category: [城乡建设\n", "not valid YAML"),
    ],
)
def test_a_broken_rules_file_is_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(RoutingError) as refused:
        parse_routing(text, load_categories(), "routing.yml")
    assert message in str(refused.value)


def test_a_missing_rules_file_is_a_routing_error(tmp_path: Path) -> None:
    with pytest.raises(RoutingError, match="cannot read"):
        read_routing(tmp_path / "routing.yml", load_categories())
