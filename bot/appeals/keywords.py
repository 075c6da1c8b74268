"""The hand-written lexicon of appeals: everyday words by category, cue words by type, Cantonese rewrites."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix

from bot.appeals.categories import TYPES, CategoryTree, LineMapping
from bot.appeals.examples import ExampleError, read_yaml
from bot.appeals.text import normalise
from bot.core.settings import PROJECT_ROOT

KEYWORDS_PATH = PROJECT_ROOT / "data" / "appeals" / "keywords.yml"


@dataclass(frozen=True)
class Keywords:
    """The hand-written lexicon: words by category pair, cue words by appeal type, and spelling rewrites."""

    categories: dict[tuple[str, str], tuple[str, ...]]
    types: dict[str, tuple[str, ...]]
    # Cantonese (or colloquial) spelling -> the standard written word, e.g. 冇 -> 没有.
    rewrites: dict[str, str] = field(default_factory=dict)

    @functools.cached_property
    def _rewrite_pattern(self) -> re.Pattern[str] | None:
        """One alternation of every spelling, the longest first (so 佢哋 wins over 佢)."""
        if not self.rewrites:
            return None
        return re.compile("|".join(re.escape(spelling) for spelling in sorted(self.rewrites, key=len, reverse=True)))

    def rewrite(self, text: str) -> str:
        """A normalised text with its Cantonese spellings replaced by the standard words."""
        pattern = self._rewrite_pattern
        return pattern.sub(lambda match: self.rewrites[match.group(0)], text) if pattern else text

    def hits(self, text: str) -> dict[tuple[str, str], int]:
        """How many of each category's words a normalised text contains (categories with none left out)."""
        found = {}
        for pair, terms in self.categories.items():
            count = sum(1 for term in terms if term in text)
            if count:
                found[pair] = count
        return found

    def first_level_hits(self, text: str) -> dict[str, int]:
        """Keyword hits summed by first level."""
        totals: dict[str, int] = {}
        for (first, _), count in self.hits(text).items():
            totals[first] = totals.get(first, 0) + count
        return totals

    def features(self, texts: Sequence[str]) -> csr_matrix:
        """log(1 + hits) per category pair, per first level and per type cue, one row per text."""
        pairs = list(self.categories)
        firsts = list(dict.fromkeys(first for first, _ in pairs))
        kinds = list(self.types)
        matrix = np.zeros((len(texts), len(pairs) + len(firsts) + len(kinds)))
        for row, text in enumerate(texts):
            for (first, second), count in self.hits(text).items():
                matrix[row, pairs.index((first, second))] = count
                matrix[row, len(pairs) + firsts.index(first)] += count
            for column, kind in enumerate(kinds):
                matrix[row, len(pairs) + len(firsts) + column] = sum(1 for cue in self.types[kind] if cue in text)
        return csr_matrix(np.log1p(matrix))


def _terms(value: object, where: str) -> tuple[str, ...]:
    """A non-empty list of words, normalised like the messages they are looked for in."""
    if not isinstance(value, list) or not value:
        raise ExampleError(f"{where}: expected a list of words")
    terms = tuple(normalise(str(term)) for term in value)
    if not all(terms):
        raise ExampleError(f"{where}: an empty word")
    return terms


def read_keywords(path: Path, tree: CategoryTree) -> Keywords:
    """Read the lexicon: words by (first, second) level of the tree (a second level may have none) and by type."""
    raw = read_yaml(path)
    if not isinstance(raw, LineMapping) or not {"categories", "types"} <= set(raw) <= {
        "categories",
        "types",
        "rewrites",
    }:
        raise ExampleError(f"{path.name}: expected the keys 'categories', 'types' and optionally 'rewrites'")
    categories: dict[tuple[str, str], tuple[str, ...]] = {}
    firsts = raw["categories"]
    if not isinstance(firsts, LineMapping):
        raise ExampleError(f"{path.name}: 'categories' must map first levels to second levels")
    for first, seconds in firsts.items():
        where = f"{path.name} line {firsts.key_lines[first]}"
        if first not in tree.first_levels() or not isinstance(seconds, LineMapping):
            raise ExampleError(f"{where}: {first!r} is not a first level with second levels under it")
        for second, terms in seconds.items():
            if not tree.is_valid(first, second):
                raise ExampleError(f"{path.name} line {seconds.key_lines[second]}: {second!r} is not under {first}")
            categories[(first, second)] = _terms(terms, f"{path.name} line {seconds.key_lines[second]}")
    types = raw["types"]
    if not isinstance(types, LineMapping) or set(types) != set(TYPES):
        raise ExampleError(f"{path.name}: 'types' must give cue words for each of {'/'.join(TYPES)}")
    return Keywords(
        categories={pair: categories[pair] for pair in tree.pairs() if pair in categories},
        types={kind: _terms(types[kind], f"{path.name} line {types.key_lines[kind]}") for kind in TYPES},
        rewrites=_rewrites(raw.get("rewrites"), path.name),
    )


def _rewrites(value: object, name: str) -> dict[str, str]:
    """Spelling -> standard word, from ``{standard: [spellings]}``; a spelling given twice is refused."""
    if value is None:
        return {}
    if not isinstance(value, LineMapping):
        raise ExampleError(f"{name}: 'rewrites' must map standard words to lists of spellings")
    rewrites: dict[str, str] = {}
    for standard, spellings in value.items():
        where = f"{name} line {value.key_lines[standard]}"
        for spelling in _terms(spellings, where):
            if spelling in rewrites:
                raise ExampleError(f"{where}: the spelling {spelling!r} is also rewritten to {rewrites[spelling]!r}")
            rewrites[spelling] = normalise(str(standard))
    return rewrites
