"""Finding services by what citizens call them: colloquial, partial and misspoken names."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

# Words that carry the request, not the service ("我想问下办护照要带什么材料" → "护照").
_FILLERS = sorted(
    [
        "请问一下",
        "请问",
        "你好",
        "您好",
        "我想问",
        "我想",
        "我要",
        "想要",
        "想问",
        "问一下",
        "问下",
        "咨询一下",
        "咨询",
        "一下",
        "帮我",
        "麻烦",
        "怎么样",
        "怎么",
        "怎样",
        "如何",
        "点样",
        "点办",
        "需要",
        "要带",
        "带什么",
        "什么",
        "啥子",
        "哪些",
        "资料",
        "材料",
        "手续",
        "流程",
        "东西",
        "要求",
        "条件",
        "可以",
        "能不能",
        "能否",
        "去哪",
        "在哪",
        "哪里",
        "边度",
        "那个",
        "就是",
        "然后",
        "还有",
        "嗯",
        "呃",
        "啊",
        "呀",
        "吗",
        "呢",
        "吧",
        "的",
        "了",
        "办理",
        "去办",
        "申办",
        "弄",
        "搞",
        "办",
    ],
    key=len,
    reverse=True,
)
# Colloquial words mapped to the catalogue's own terms, applied to queries and names alike.
_SYNONYMS = {
    "续签": "签注",
    "续期": "签注",
    "掉了": "补",
    "丢了": "补",
    "弄丢": "补",
    "遗失": "补",
    "不见了": "补",
    "补办": "补",
    "补领": "补",
    "过期": "换",
    "到期": "换",
    "驾照": "驾驶证",
    "身分证": "身份证",
    "户照": "护照",
    "社保卡": "社会保障卡",
    "出生证明": "出生医学证明",
    "良民证": "无犯罪记录证明",
}
_SYNONYM_ORDER = sorted(_SYNONYMS, key=len, reverse=True)
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)


def normalize(text: str) -> str:
    """Half-width, lower-case, without punctuation, with colloquial words replaced."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _PUNCTUATION.sub("", text)
    for word in _SYNONYM_ORDER:
        text = text.replace(word, _SYNONYMS[word])
    return text


def strip_fillers(text: str) -> str:
    """The normalized query without the words of the request around the service."""
    text = normalize(text)
    for filler in _FILLERS:
        stripped = text.replace(filler, "")
        if stripped:
            text = stripped
    return text


def _grams(text: str) -> set[str]:
    if len(text) < 2:
        return {text} if text else set()
    return {text[i : i + 2] for i in range(len(text) - 1)}


@dataclass(frozen=True)
class SearchEntry:
    """What the index knows of a service."""

    id: str
    name: str
    department: str
    aliases: tuple[str, ...] = ()
    situations: tuple[str, ...] = ()
    source: str = "project"


@dataclass(frozen=True)
class Match:
    """A service that matches a query, with a score from 0 to 1."""

    entry: SearchEntry
    score: float
    # The two-character pieces of the query that the matching name or alias contains.
    covered: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Resolution:
    """How sure the search is: one service, a few to choose from, or none."""

    matches: list[Match]
    sure: bool

    @property
    def found(self) -> bool:
        """Whether anything matched well enough to be offered."""
        return bool(self.matches)


@dataclass
class CatalogIndex:
    """An in-memory index of service names and aliases, built from the catalogue."""

    entries: list[SearchEntry]
    min_score: float = 0.35
    sure_score: float = 0.7
    sure_margin: float = 0.05
    _fields: list[tuple[int, str, set[str]]] = field(default_factory=list, repr=False)
    _postings: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _idf: dict[str, float] = field(default_factory=dict, repr=False)
    _norms: list[float] = field(default_factory=list, repr=False)
    _by_id: dict[str, SearchEntry] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {entry.id: entry for entry in self.entries}
        postings: dict[str, list[int]] = defaultdict(list)
        for entry_index, entry in enumerate(self.entries):
            for text in {normalize(entry.name), *(normalize(a) for a in entry.aliases)}:
                if not text:
                    continue
                grams = _grams(text)
                field_index = len(self._fields)
                self._fields.append((entry_index, text, grams))
                for gram in grams:
                    postings[gram].append(field_index)
        total = len(self._fields) or 1
        self._postings = dict(postings)
        self._idf = {gram: math.log(1 + total / len(fields)) for gram, fields in postings.items()}
        self._norms = [math.sqrt(sum(self._idf[g] ** 2 for g in grams)) or 1.0 for _, _, grams in self._fields]

    @classmethod
    def from_entries(cls, entries: Iterable[SearchEntry], min_score: float = 0.35) -> CatalogIndex:
        """Build the index from search entries."""
        return cls(entries=list(entries), min_score=min_score)

    def get(self, service_id: str) -> SearchEntry | None:
        """The entry of a service id, or None."""
        return self._by_id.get(service_id)

    def search(self, query: str, limit: int = 5) -> list[Match]:
        """The best-matching services for ``query``, best first."""
        text = strip_fillers(query)
        grams = _grams(text)
        if not grams:
            return []
        unknown_idf = math.log(1 + len(self._fields) or 1)
        weights = {g: self._idf.get(g, unknown_idf) for g in grams}
        query_norm = math.sqrt(sum(w * w for w in weights.values()))
        query_mass = sum(weights.values())
        dots: dict[int, float] = defaultdict(float)
        covered: dict[int, float] = defaultdict(float)
        for gram in grams:
            weight = self._idf.get(gram)
            if weight is None:
                continue
            for field_index in self._postings[gram]:
                dots[field_index] += weight * weight
                covered[field_index] += weight
        best: dict[int, tuple[float, int]] = {}
        for field_index, dot in dots.items():
            entry_index, field_text, _ = self._fields[field_index]
            # Mostly how much of what was said the name covers, partly how close they are.
            cosine = dot / (query_norm * self._norms[field_index])
            score = 0.6 * covered[field_index] / query_mass + 0.4 * cosine
            if len(field_text) >= 2 and field_text in text:
                # The whole name or alias is said: strong, stronger the more it covers.
                score = max(score, 0.5 + 0.5 * len(field_text) / len(text))
            if score > best.get(entry_index, (0.0, -1))[0]:
                best[entry_index] = (score, field_index)
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))
        return [
            Match(
                entry=self.entries[index],
                score=round(score, 4),
                covered=frozenset(grams & self._fields[field_index][2]),
            )
            for index, (score, field_index) in ranked[:limit]
            if score >= self.min_score
        ]

    def resolve(self, query: str, choices: int = 3) -> Resolution:
        """One service when the best match is clear, otherwise the top few to choose from."""
        matches = self.search(query, limit=max(choices, 2))
        if not matches:
            return Resolution(matches=[], sure=False)
        top = matches[0]
        runner_up = matches[1].score if len(matches) > 1 else 0.0
        # Words of the query the best match leaves out but another match explains
        # (台湾通行证"签注" against 台湾通行证"签发"): the choice is the citizen's.
        left_out = _grams(strip_fillers(query)) - top.covered
        explained_elsewhere = any(left_out & other.covered for other in matches[1:choices])
        clear_lead = top.score >= self.sure_score and top.score - runner_up >= self.sure_margin
        if clear_lead and not explained_elsewhere:
            return Resolution(matches=matches[:1], sure=True)
        return Resolution(matches=matches[:choices], sure=False)


def find_situation(text: str, situations: list[tuple[str, list[str]]]) -> int | None:
    """The situation ``text`` describes, by its name or a colloquial alias (longest wins)."""
    said = normalize(text)
    best: tuple[int, int] | None = None
    for index, (name, aliases) in enumerate(situations):
        for word in (name, *aliases):
            candidate = normalize(word)
            if candidate and candidate in said and (best is None or len(candidate) > best[1]):
                best = (index, len(candidate))
    return best[0] if best else None
