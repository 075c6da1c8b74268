"""Routing appeals to departments: specificity, the dispatcher queue, and a validated rules file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.appeals.categories import load_categories
from bot.appeals.routing import RoutingError, RoutingTable, load_routing, parse_routing, read_routing, route

PROPERTY = ("城乡建设", "住房保障与房地产")
RULES = """
- category: 城乡建设
  department: 市住建局
  districts:
    天河区: 天河区住建局
- category: 城乡建设/住房保障与房地产
  department: 市房管处
  districts:
    海珠区: 海珠区房管科
- category: 城乡建设/住房保障与房地产/物业服务
  department: 市物业处
  districts:
    海珠区: 海珠区物业科
- category: 城乡建设/住房保障与房地产/公房
  department: 待分派
"""


def table() -> RoutingTable:
    return parse_routing(RULES, load_categories())


def test_third_level_and_district_is_the_most_specific_rule() -> None:
    assert table().route((*PROPERTY, "物业服务"), "海珠区") == "海珠区物业科"
    assert table().route((*PROPERTY, "物业服务"), "天河区") == "市物业处"


def test_a_second_level_rule_covers_its_other_third_levels_and_a_category_without_one() -> None:
    assert table().route((*PROPERTY, "房屋租赁"), "海珠区") == "海珠区房管科"
    assert table().route((*PROPERTY, "房屋租赁"), "天河区") == "市房管处"
    assert table().route(PROPERTY, "海珠区") == "海珠区房管科"
    assert table().route(PROPERTY, None) == "市房管处"


def test_first_level_rules_cover_the_other_second_levels() -> None:
    assert table().route(("城乡建设", "工程质量", "其他"), "天河区") == "天河区住建局"
    assert table().route(("城乡建设", "工程质量"), "越秀区") == "市住建局"
    assert table().route(("城乡建设", "工程质量"), None) == "市住建局"


def test_a_category_no_rule_covers_or_a_dispatcher_rule_goes_to_the_dispatcher() -> None:
    assert table().route(("环境保护", "环境污染", "噪音污染"), "天河区") is None
    assert table().route(("环境保护", "环境污染"), None) is None
    assert table().route((*PROPERTY, "公房"), "海珠区") is None


def test_an_unknown_district_counts_as_none_and_an_unknown_category_has_no_rule() -> None:
    assert table().route(("城乡建设", "工程质量"), "东山区") == "市住建局"
    assert table().route(("不存在", "也不存在"), "天河区") is None


def test_project_rules_route_by_district_and_fall_back_to_the_city() -> None:
    assert route((*PROPERTY, "物业服务"), "天河区") == "广州市天河区住房和城乡建设局"
    assert route((*PROPERTY, "物业服务"), None) == "广州市住房和城乡建设局"
    assert route(("环境保护", "环境污染", "噪音污染"), "海珠区") == "广州市生态环境局海珠区分局"
    assert route(("环境保护", "环境污染", "水污染"), "海珠区") == "广州市海珠区水务局"
    # Where a real centre files them, and who does the work in Guangzhou.
    assert route(("城乡建设", "城乡规划", "违章建筑"), "白云区") == "广州市白云区城市管理和综合执法局"
    assert route(("城乡建设", "城乡规划", "规划方案"), "白云区") == "广州市规划和自然资源局白云区分局"
    assert route(("城乡建设", "城市建设和市政管理", "地铁城铁"), "天河区") == "广州地铁集团有限公司"
    assert route(("城乡建设", "城市建设和市政管理", "电力供应"), None) == "广东电网有限责任公司广州供电局"
    assert route(("卫生计生", "食品药品监管", "食品安全"), "天河区") == "广州市天河区市场监督管理局"
    assert route(("政法", "交通管理", "交通事故"), "番禺区") == "广州市公安局交通警察支队番禺区大队"
    assert route(("政法", "户籍证件", "户籍管理"), "番禺区") == "广州市公安局番禺区分局"
    assert route(("劳动和社会保障", "城镇职工社会保险", "职工养老保险"), "天河区") == "广州市社会保险基金管理中心"
    # Only the districts with farmland have a district bureau of agriculture.
    assert route(("农村农业", "农资农技", "其他"), "从化区") == "广州市从化区农业农村局"
    assert route(("农村农业", "农资农技", "其他"), "越秀区") == "广州市农业农村局"


def test_every_first_and_second_level_of_the_tree_reaches_a_department() -> None:
    tree = load_categories()
    for district in (None, "天河区", "从化区"):
        assert [pair for pair in tree.pairs() if route(pair, district) is None] == []
        unrouted = {path for path in tree.triples() if route(path, district) is None}
        assert unrouted == {("城乡建设", "其他", "其他")}  # the dispatcher splits a centre's catch-all


def test_project_rules_file_is_valid() -> None:
    assert len(load_routing().departments) > 100


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- category: 城建\n  department: x\n", "line 1: unknown category '城建'"),
        ("- category: 城乡建设/物业\n  department: x\n", "line 1: '物业' is not a second level of 城乡建设"),
        (
            "- category: 城乡建设/城乡规划/物业\n  department: x\n",
            "line 1: '物业' is not a third level of 城乡建设/城乡规划",
        ),
        ("- category: 城乡建设/城乡规划/违章建筑/a\n  department: x\n", "line 1: unknown category"),
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
