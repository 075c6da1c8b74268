"""The real three-level classification tree, read from the file APPEAL_TAXONOMY_FILE names, validated as it is read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.appeals import categories
from bot.appeals.categories import (
    FIRST_LEVELS,
    CategoryError,
    known_path,
    load_taxonomy,
    parse_taxonomy,
    read_taxonomy,
)
from bot.core.settings import PROJECT_ROOT, get_settings

SHARED_TREE = (PROJECT_ROOT / ".." / "shared" / "data" / "appeal_taxonomy" / "taxonomy_3level.csv").resolve()


def _csv(*rows: str) -> str:
    """A tree file with every first level once (under 其他/其他) and ``rows`` after them."""
    return "\n".join(["level1,level2,level3", *(f"{first},其他,其他" for first in FIRST_LEVELS), *rows]) + "\n"


@pytest.fixture
def fresh_tree(clean_settings: None) -> Iterator[None]:
    """The tree read again from the settings of this test."""
    load_taxonomy.cache_clear()
    yield
    load_taxonomy.cache_clear()


def test_the_default_is_the_shared_tree_beside_the_project(fresh_tree: None) -> None:
    assert get_settings().appeal_taxonomy_file == SHARED_TREE
    tree = load_taxonomy()
    assert tree.first_levels() == FIRST_LEVELS
    assert (len(tree.pairs()), len(tree.triples())) == (118, 517)
    assert tree.second_levels("环境保护") == ("环保管理", "环境污染", "建设项目审批", "其他")
    assert "物业服务" in tree.third_levels("城乡建设", "住房保障与房地产")


def test_known_path_answers_for_one_two_and_three_levels(fresh_tree: None) -> None:
    assert known_path("城乡建设")
    assert known_path("城乡建设", "城乡规划", None)
    assert known_path("城乡建设", "城乡规划", "违章建筑")
    assert known_path("政法", "交通管理", "交通事故")
    assert not known_path("城乡建设", None, "违章建筑")  # a third level needs its second
    assert not known_path("环境保护", "城乡规划", None)  # a second level of another first level
    assert not known_path("城乡建设", "城乡规划", "交通事故")
    assert not known_path("城建", None, None)


def test_a_relative_setting_is_read_from_the_project_root(
    fresh_tree: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "centre.csv"
    own.write_text(_csv("城乡建设,城乡规划,违章建筑"), encoding="utf-8")
    monkeypatch.setenv("APPEAL_TAXONOMY_FILE", str(own))
    assert get_settings().appeal_taxonomy_file == own
    assert known_path("城乡建设", "城乡规划", "违章建筑") and not known_path("政法", "交通管理", None)
    monkeypatch.setenv("APPEAL_TAXONOMY_FILE", "var/centre.csv")
    get_settings.cache_clear()
    assert get_settings().appeal_taxonomy_file == PROJECT_ROOT / "var" / "centre.csv"


def test_a_missing_file_is_an_error_naming_the_file_and_the_setting(
    fresh_tree: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APPEAL_TAXONOMY_FILE", str(tmp_path / "nowhere.csv"))
    with pytest.raises(CategoryError, match=r"nowhere\.csv: the classification tree of appeals is missing.*APPEAL_"):
        load_taxonomy()


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("一级,二级,三级\n城乡建设,其他,其他\n", r"tree\.csv line 1: the header must be level1,level2,level3"),
        ("", r"tree\.csv line 1: the header"),
        (_csv("城乡建设,城乡规划"), r"tree\.csv line 17: expected 3 fields .* found 2"),
        (_csv("城建,城乡规划,其他"), r"tree\.csv line 17: unknown first level '城建'"),
        (_csv("城乡建设,,其他"), r"tree\.csv line 17: level2 and level3 must not be empty"),
        (_csv("城乡建设,城乡规划,违章建筑", "城乡建设,城乡规划,违章建筑"), r"line 18: .*is already on line 17"),
        ("level1,level2,level3\n城乡建设,其他,其他\n", r"tree\.csv: first levels missing: 环境保护、"),
    ],
)
def test_a_broken_file_is_refused_with_its_line(text: str, error: str, tmp_path: Path) -> None:
    path = tmp_path / "tree.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CategoryError, match=error):
        read_taxonomy(path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tree.csv"
    path.write_bytes(_csv().encode("gbk"))
    with pytest.raises(CategoryError, match=r"tree\.csv: not UTF-8 text"):
        read_taxonomy(path)


def test_a_byte_order_mark_and_blank_lines_are_accepted() -> None:
    tree = parse_taxonomy("\ufeff" + _csv("", "城乡建设,城乡规划,违章建筑"))
    assert tree.third_levels("城乡建设", "城乡规划") == ("违章建筑",)
    assert tree.is_known(("城乡建设", "城乡规划")) and not tree.is_known(("城乡建设",))


def test_the_project_holds_no_copy_of_the_tree() -> None:
    assert categories.taxonomy_path() == SHARED_TREE or categories.taxonomy_path().exists()
    lines = SHARED_TREE.read_text(encoding="utf-8").splitlines()[1:]
    for path in (PROJECT_ROOT / "data").rglob("*"):
        if path.is_file() and path.suffix in {".csv", ".yml", ".txt", ".json", ".jsonl"}:
            # Whole lines of the tree, not labels of examples (a labelled message ends with its tree path).
            held = set(path.read_text(encoding="utf-8", errors="replace").splitlines())
            assert sum(line in held for line in lines) < 100, f"{path} looks like a copy of the tree"


@pytest.fixture
def fresh_routing(fresh_tree: None) -> Iterator[None]:
    """The routing rules read again (over the tree of this test)."""
    from bot.appeals.routing import load_routing

    load_routing.cache_clear()
    yield
    load_routing.cache_clear()


def test_the_servers_do_not_start_without_the_tree(
    fresh_routing: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import serve
    from bot.cli.main import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'hotline.db'}")
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    started: list[bool] = []
    monkeypatch.setattr(serve, "run_servers", lambda: started.append(True) or 0)
    monkeypatch.setenv("APPEAL_TAXONOMY_FILE", str(tmp_path / "gone.csv"))
    get_settings.cache_clear()
    assert main(["run"]) == 3
    error = capsys.readouterr().err
    assert f"错误：{tmp_path / 'gone.csv'}: the classification tree of appeals is missing" in error
    assert "APPEAL_TAXONOMY_FILE" in error and not started

    broken = tmp_path / "broken.csv"
    broken.write_text(_csv("城建,城乡规划,其他"), encoding="utf-8")
    monkeypatch.setenv("APPEAL_TAXONOMY_FILE", str(broken))
    get_settings.cache_clear()
    load_taxonomy.cache_clear()
    assert main(["run"]) == 3
    assert "broken.csv line 17: unknown first level '城建'" in capsys.readouterr().err and not started


def test_classifying_without_the_tree_says_which_file_is_missing(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    gone = tmp_path / "gone.csv"
    finished = subprocess.run(
        [sys.executable, "-m", "bot", "classify"],
        input="小区停水两天了\n".encode(),
        capture_output=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "APPEAL_TAXONOMY_FILE": str(gone)},
        timeout=120,
        check=False,
    )
    assert finished.returncode == 3
    assert finished.stdout == b""
    assert f"错误：{gone}: the classification tree of appeals is missing" in finished.stderr.decode()
    assert "Traceback" not in finished.stderr.decode()
