"""Re-label the appeal examples from our old two-level tree to the real three-level tree (run once, 2026-12-05).

Each old second level has a default (level1, level2, level3) in the real tree (``DEFAULTS`` of migration
0004, which keeps the tables) and, where the old group mixed things the real tree keeps apart, rules that look at
the message (``RULES``: the first pattern found in the title and text decides). The conventions follow
where a real centre files things: city buses, the metro, water/power/gas, sanitation and street stalls
under 城乡建设›城市建设和市政管理; property management and planning under 城乡建设; food and drugs under
卫生计生; traffic policing and 户籍 under 政法; 环境保护 only for 环保管理, 环境污染 and 建设项目审批.

    python bench/relabel_appeals.py OLD_FOLDER NEW_FOLDER   # examples/, dev/ or fresh/ (data/appeals/README.md)
    python bench/relabel_appeals.py --keywords OLD NEW     # keywords.yml: each word goes where its message would
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections import defaultdict
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# DEFAULTS and RULES are kept in migration 0004, their one place (a migration never changes).
_MIGRATION = importlib.import_module("bot.core.migrations.versions.0004_appeal_taxonomy")

# Where each first level's examples are kept (one file per first level and batch).
FILE_STEMS = {
    "城乡建设": "urban_construction",
    "环境保护": "environment",
    "交通运输": "transport",
    "劳动和社会保障": "labour_social_security",
    "教育文体": "education_culture_sports",
    "卫生计生": "health",
    "商贸旅游": "commerce_tourism",
    "民政": "civil_affairs",
    "农村农业": "agriculture_rural",
    "国土资源": "land_resources",
    "政法": "politics_law",
    "经济管理": "economy",
    "科技与信息产业": "science_it",
    "党务政务": "party_government",
    "纪检监察": "discipline_inspection",
}


def new_path(old: tuple[str, str], title: str, text: str) -> tuple[str, str, str]:
    """The real (level1, level2, level3) of a message labelled ``old`` in our two-level tree."""
    path = _MIGRATION.new_label(*old, title, text)
    if path is None:
        raise KeyError(old)
    return path


class _Dumper(yaml.SafeDumper):
    """Block style, Chinese as it is, list items indented under their key (the examples' style)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _dump(data: object) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000, default_flow_style=False)


def relabel_folder(old: Path, new: Path) -> None:
    """Every example of ``old`` (our tree) written to ``new`` (the real tree), one file per first level and batch."""
    grouped: dict[str, dict[str, dict[str, dict[str, list[dict[str, str]]]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    )
    headers: dict[str, str] = {}
    for path in sorted(old.glob("*.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        suffix = path.stem.split("_")[-1] if path.stem.endswith("_everyday") else ""
        first = raw["first"]
        for second, items in raw["examples"].items():
            for item in items:
                level1, level2, level3 = new_path((first, second), item.get("title") or "", item["text"])
                name = FILE_STEMS[level1] + (f"_{suffix}" if suffix else "") + ".yml"
                headers.setdefault(
                    name,
                    "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")),
                )
                grouped[name][level1][level2][level3].append(dict(item))
    new.mkdir(parents=True, exist_ok=True)
    for name, firsts in sorted(grouped.items()):
        ((level1, levels),) = firsts.items()
        body = {"first": level1, "examples": {l2: dict(l3s) for l2, l3s in levels.items()}}
        header = re.sub(r"^# \S+?:", f"# {level1}:", headers[name], count=1)
        (new / name).write_text(header + "\n" + _dump(body), encoding="utf-8")


def relabel_keywords(old: Path, new: Path) -> None:
    """keywords.yml: each word of an old category goes to the real pair a message of that word would get."""
    raw = yaml.safe_load(old.read_text(encoding="utf-8"))
    categories: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for first, seconds in raw["categories"].items():
        for second, terms in seconds.items():
            for term in terms:
                level1, level2, _ = new_path((first, second), "", str(term))
                if term not in categories[level1][level2]:
                    categories[level1][level2].append(term)
    body = {
        "categories": {k: dict(v) for k, v in categories.items()},
        "types": raw["types"],
        "rewrites": raw["rewrites"],
    }
    text = yaml.dump(body, allow_unicode=True, sort_keys=False, width=10_000, default_flow_style=None)
    new.write_text(text, encoding="utf-8")


def main(argv: list[str]) -> int:
    """Relabel a folder of examples or the keywords file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keywords", action="store_true")
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    if args.keywords:
        relabel_keywords(args.old, args.new)
    else:
        relabel_folder(args.old, args.new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
