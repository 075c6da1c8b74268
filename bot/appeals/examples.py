"""The labelled examples of appeals: reading and validating them, and their train/held-out split."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.appeals.categories import TYPES, CategoryTree, DataFileError, LineMapping, load_strict_yaml
from bot.appeals.text import normalise
from bot.core.settings import PROJECT_ROOT

EXAMPLES_PATH = PROJECT_ROOT / "data" / "appeals" / "examples"
# Two more test sets, never trained on: the development set (its errors guided later data and lexicon
# words) and the fresh set, written last and only ever measured (data/appeals/README.md).
DEV_PATH = PROJECT_ROOT / "data" / "appeals" / "dev"
FRESH_PATH = PROJECT_ROOT / "data" / "appeals" / "fresh"
# Share of the examples kept out of training, chosen by a stable hash of the message (never by hand).
HELD_OUT_PERCENT = 20


class ExampleError(ValueError):
    """A labelled-examples file is unreadable or an example breaks the format."""


@dataclass(frozen=True)
class Example:
    """One labelled message: what the citizen wrote and what it is."""

    title: str
    text: str
    type: str
    category: tuple[str, str, str]  # (level1, level2, level3) of the tree
    source: str

    def digest(self) -> str:
        """A stable digest of the message (title and text), the key of the train/held-out split."""
        return hashlib.sha256(f"{self.title}\n{self.text}".encode()).hexdigest()


def _text(value: object, where: str, required: bool) -> str:
    """A stripped string field, or an ExampleError saying where it is wrong."""
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ExampleError(f"{where}: expected text, not {value!r}")
    return value.strip()


def read_yaml(path: Path) -> object:
    """A data file's YAML, any error as an ``ExampleError`` that names the file."""
    try:
        return load_strict_yaml(path.read_text(encoding="utf-8"), path.name)
    except OSError as error:
        raise ExampleError(f"{path}: cannot read: {error.strerror}") from error
    except DataFileError as error:
        raise ExampleError(str(error)) from error


def _file_examples(path: Path, tree: CategoryTree) -> list[Example]:
    """The examples of one file, validated against the tree and the types."""
    raw = read_yaml(path)
    if not isinstance(raw, LineMapping) or set(raw) != {"first", "examples"}:
        raise ExampleError(f"{path.name}: expected the keys 'first' and 'examples'")
    first = raw["first"]
    if first not in tree.first_levels():
        raise ExampleError(f"{path.name} line {raw.key_lines['first']}: unknown first level {first!r}")
    groups = raw["examples"]
    if not isinstance(groups, LineMapping):
        raise ExampleError(f"{path.name}: 'examples' must map second levels to third levels to lists of examples")
    examples = []
    for second, thirds in groups.items():
        where = f"{path.name} line {groups.key_lines[second]}"
        if not tree.is_valid(first, second):
            raise ExampleError(f"{where}: {second!r} is not a second level of {first}")
        if not isinstance(thirds, LineMapping) or not thirds:
            raise ExampleError(f"{where}: {second} must map its third levels to lists of examples")
        for third, items in thirds.items():
            examples += _group_examples(path, (first, second, third), items, thirds.key_lines[third], tree)
    return examples


def _group_examples(
    path: Path, category: tuple[str, str, str], items: object, line: int, tree: CategoryTree
) -> list[Example]:
    """The examples listed under one third level, validated."""
    where = f"{path.name} line {line}"
    if not tree.is_known(category):
        raise ExampleError(f"{where}: {category[2]!r} is not a third level of {category[0]}/{category[1]}")
    if not isinstance(items, list) or not items:
        raise ExampleError(f"{where}: {category[2]} must list examples")
    examples = []
    for item in items:
        if not isinstance(item, LineMapping):
            raise ExampleError(f"{where}: every example must be a mapping, not {item!r}")
        item_where = f"{path.name} line {item.line}"
        unknown = sorted(set(item) - {"type", "title", "text"})
        if unknown:
            raise ExampleError(f"{item_where}: unknown keys {', '.join(map(str, unknown))}")
        kind = item.get("type")
        if kind not in TYPES:
            raise ExampleError(f"{item_where}: type must be one of {'/'.join(TYPES)}, not {kind!r}")
        examples.append(
            Example(
                title=_text(item.get("title"), item_where, required=False),
                text=_text(item.get("text"), item_where, required=True),
                type=kind,
                category=category,
                source=item_where,
            )
        )
    return examples


def read_examples(folder: Path, tree: CategoryTree) -> list[Example]:
    """Every labelled example of a folder (``*.yml``), validated; the same message twice is refused."""
    paths = sorted(folder.glob("*.yml"))
    if not paths:
        raise ExampleError(f"{folder}: no example files (*.yml)")
    examples: list[Example] = []
    seen: dict[str, str] = {}
    for path in paths:
        for example in _file_examples(path, tree):
            key = normalise(f"{example.title}\n{example.text}")
            if key in seen:
                raise ExampleError(f"{example.source}: the same message as {seen[key]}")
            seen[key] = example.source
            examples.append(example)
    return examples


def is_held_out(example: Example) -> bool:
    """Whether an example belongs to the held-out split (a fixed share, by the message's digest)."""
    return int(example.digest()[:8], 16) % 100 < HELD_OUT_PERCENT


def split_examples(examples: Iterable[Example]) -> tuple[list[Example], list[Example]]:
    """(train, held out): the classifier is built from the first only."""
    train: list[Example] = []
    held_out: list[Example] = []
    for example in examples:
        (held_out if is_held_out(example) else train).append(example)
    return train, held_out
