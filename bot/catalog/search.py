"""Finding services by what citizens call them: colloquial, partial and misspoken names."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from bot.catalog.focus import asking_part
from bot.catalog.groups import group_named, group_prior, group_said, names_another_groups_document
from bot.catalog.homophones import Homophones, Reading, pinyin_reading
from bot.catalog.retrieval import (
    EXPANSIONS,
    FieldIndex,
    action_prior,
    clean,
    correct,
    document_text,
    expand,
    expand_read,
    expansion,
    family,
    is_abbreviation,
    jieba_tokenizer,
    kind_of,
    kind_prior,
    name_text,
    tokens,
)
from bot.catalog.wording import char_pairs, normalize, strip_fillers, without_repeats
from bot.core.corrections import said_after_correction


@dataclass(frozen=True)
class SearchEntry:
    """What the index knows of a service."""

    id: str
    name: str
    department: str
    aliases: tuple[str, ...] = ()
    situations: tuple[str, ...] = ()
    source: str = "project"
    materials: tuple[str, ...] = ()
    area: str = ""


@dataclass(frozen=True)
class Match:
    """A service that matches a query, with a score from 0 to 1."""

    entry: SearchEntry
    score: float
    # The two-character pieces of the query that the matching name or alias contains.
    covered: frozenset[str] = frozenset()


# A service the citizen already has (营业执照已经下来了, 护照早就办好了, 驾照都攞咗): never what they ask for.
_ALREADY_HAD = re.compile(
    r"([\u4e00-\u9fff]{2,8}?)(?:已经|都已经|早就|早已|都)(?:下来|办好|办完|办咗|办了|拿到|攞到|攞咗|批了|批咗|有了|搞掂|搞定)了?"
)

# A document the citizen holds, said as background (我个仔有残疾证，二级，…), not lacked (冇残疾证).
_HOLDS_A_DOCUMENT = re.compile(r"(?<![没冇无])(?:已经)?有(?:张|本|个|咗)?([\u4e00-\u9fff]{1,5}证)(?=[，,、。\s])")


@dataclass(frozen=True)
class Resolution:
    """How sure the search is: one service, a few to choose from, or none."""

    matches: list[Match]
    sure: bool
    # How likely the first match is the service meant (0 to 1), from the margins of the ranking.
    confidence: float = 0.0
    # Not sure, but the first match is likely enough to be answered, the others named beside it.
    likely: bool = False
    # The first match's name is said for a group of people, or a document, it is not (港澳居民居住证, 回乡证): another
    # thing, offered but never answered as a guess.
    another_thing: bool = False

    @property
    def found(self) -> bool:
        """Whether anything matched well enough to be offered."""
        return bool(self.matches)


# The ranking's fields and their weights: BM25 over names (and aliases, situations), BM25 over
# everything published (department, materials), how much of what was said a name covers, and how
# much of a name's own words were said (precision: a question about 法律援助 that says nothing of
# 执业 or 许可 means 法律援助, not 法律援助律师执业许可; 办理往来台湾通行证, not its 商务签注).
# Chosen on the dev half split in two (odd and even questions): top-3 0.875/0.916 without
# precision, 0.929/0.944 with it (and the question's terms counted once); the neighbouring weights
# give 0.92-0.95 on either half.
FIELD_WEIGHTS = {"name": 0.3, "document": 0.15, "cover": 0.3, "precision": 0.25}
# Confidence (see ``Confidence``): a logistic function of the margins between the first candidates,
# fitted on the dev half of data/eval/catalog_questions (``python bench/eval_catalog.py --calibrate``).
# A direct answer needs ``SURE_CONFIDENCE``; below that the citizen chooses among the top three.
# With the ranking of this version, on the dev half: 0.86 answers 26 of 244 questions directly, none
# wrong; 0.84: 30, none wrong; 0.80: 34, one wrong; 0.76: 42, two wrong. 0.86 keeps a step of margin
# (a question offered three choices still reaches its service; a wrong direct answer does not).
SURE_CONFIDENCE = 0.86
# Below that, from ``LIKELY_CONFIDENCE`` the first candidate is answered as the likely one and the others
# are named beside it ("如果您问的是…，直接说名称"), instead of a list to choose from: a citizen who asked
# what to bring gets it in one turn. A clear lead is needed too (as for a sure answer). On the dev halves
# of the blind catalogue questions (the real Guangdong catalogue), not sure but at least 0.6: set 1, 81
# questions, 72 right, 5 wrong with the right one named, 4 out of the catalogue; set 2, 83, 73 right,
# 7 named, 2 wrong and not named, 1 outside. 0.55 adds 11 and 11 questions, 7 and 6 of them right;
# 0.65 leaves out 11 and 15, 11 and 12 of them right (``bench/eval_catalog.py`` prints these shares).
# 2026-12-08: 0.5. The blind dialogue sets' citizens, who asked what to bring, kept getting a list where the first
# was theirs (异地就医, 缴存证明, 注销 at 0.54-0.59). On the three catalogue dev halves, 0.6 -> 0.5 answers as the
# likely one 0.328 / 0.328 / 0.235 -> 0.451 / 0.422 / 0.390 of the questions; the ones added are right about three
# times in four, and the others are named beside the guess (wrong with the right one named 0.06-0.09).
LIKELY_CONFIDENCE = 0.5
# What follows a correction alone (是换发) is answered as the likely one only from the earlier, higher bar: a few words
# of an action name many services.
CORRECTED_LIKELY = 0.6
# A loss said (丢了, 不见了, 遗失: ``normalize`` makes them 补): the candidates whose name replaces what was
# lost (补领, 补发, 挂失) stay, the others are worth this much. On the catalogue questions' dev halves top-1
# 0.772 the same and 0.662 -> 0.676 (0.75: 0.667), top-3 and wrong direct answers unchanged. 0.75 was kept
# first as the milder; the third blind dialogue set's 结婚证搬家搞丢了，补结婚证 still got 结婚登记 as a
# close second with it, and a list instead of the materials.
LOST_ELSEWHERE = 0.6
_REPLACING = re.compile(r"补(?![贴助缴交充偿习课考])|挂失")  # not 补贴, 补助, 补缴: no loss in them
# A direct answer also needs the name (or its aliases) to use at least half of the catalogue words said
# (words some name uses): "股权质押" is not answered with 收费权质押登记, which leaves 股权 out. Citizens
# say why and who besides the service (被公司辞退了, 去外国读书用, 开饭店的员工): with 0.75 such questions
# about a clear service got three choices; with 0.5 they get the answer. On the catalogue questions'
# dev half 0.5 answers one more question directly (27 of 244), none wrong, as 0.75 did.
SURE_WORDS = 0.5
# Who and where the citizen is (孩子, 老家): said as the case's circumstances, and in some services' aliases
# (领养孩子, 回老家看病), but no sign that the question is about another service. They are not among the
# words a direct answer must explain (孩子从老家转学 is 中小学转学).
CIRCUMSTANCES = frozenset(
    ["孩子", "小孩", "宝宝", "小朋友", "儿子", "女儿", "老人", "老人家", "父母", "老婆", "老公", "家里", "老家", "外地"]
)
# How much the words of a long question's asking clauses (``focus.asking_part``) add to their BM25
# weight: 1, they count twice. On the dev halves (both written blind): catalog_questions_2 top-3 the
# same (long 0.67 -> 0.72, one spoken question lost), catalog_questions 0.954 -> 0.963; 0.5 and 2 the same.
ASKING_WEIGHT = 1.0


@dataclass(frozen=True)
class Candidate:
    """One name of the catalogue ranked for a query, with the evidence of each field."""

    group: int
    score: float
    name: float
    document: float
    cover: float
    covered: frozenset[str]
    # Share of the query's catalogue words (words some name uses) that this service's names or published
    # text (department, materials) use.
    words: float = 0.0
    # The same share of the words said (before colloquial words are read as the catalogue's; slips as heard).
    said_words: float = 0.0
    # Whether the service uses any catalogue word of the query, common ones (申请) included.
    shares_word: bool = False


@dataclass
class CatalogIndex:
    """An in-memory index of the catalogue: names, aliases, departments and materials.

    Services that share a name (the province's and Guangzhou's record of one 事项) are one
    candidate, answered by Guangzhou's record.
    """

    entries: list[SearchEntry]
    min_score: float = 0.35
    # How the index hears a question's words (pypinyin where installed; None: by their characters only).
    reading: Reading | None = field(default_factory=pinyin_reading, repr=False)
    _fields: list[tuple[int, str, set[str]]] = field(default_factory=list, repr=False)
    _postings: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _idf: dict[str, float] = field(default_factory=dict, repr=False)
    _norms: list[float] = field(default_factory=list, repr=False)
    _by_id: dict[str, SearchEntry] = field(default_factory=dict, repr=False)
    _groups: list[list[int]] = field(default_factory=list, repr=False)
    _group_of: list[int] = field(default_factory=list, repr=False)
    _kinds: list[str] = field(default_factory=list, repr=False)
    _heads: list[str] = field(default_factory=list, repr=False)
    _families: list[str] = field(default_factory=list, repr=False)
    _bases: list[str] = field(default_factory=list, repr=False)
    _name_words: list[frozenset[str]] = field(default_factory=list, repr=False)
    _aliases: list[frozenset[str]] = field(default_factory=list, repr=False)
    _names: FieldIndex | None = field(default=None, repr=False)
    _documents: FieldIndex | None = field(default=None, repr=False)
    _homophones: Homophones | None = field(default=None, repr=False)
    # Names and aliases jieba cuts into single characters (门特, 门慢): found in a question as they are.
    _abbreviations: frozenset[str] = field(default=frozenset(), repr=False)

    def __post_init__(self) -> None:
        self._by_id = {entry.id: entry for entry in self.entries}
        postings: dict[str, list[int]] = defaultdict(list)
        for entry_index, entry in enumerate(self.entries):
            for text in {normalize(entry.name), *(normalize(a) for a in entry.aliases)}:
                if not text:
                    continue
                grams = char_pairs(text)
                field_index = len(self._fields)
                self._fields.append((entry_index, text, grams))
                for gram in grams:
                    postings[gram].append(field_index)
        total = len(self._fields) or 1
        self._postings = dict(postings)
        self._idf = {gram: math.log(1 + total / len(fields)) for gram, fields in postings.items()}
        self._norms = [math.sqrt(sum(self._idf[g] ** 2 for g in grams)) or 1.0 for _, _, grams in self._fields]
        self._build_groups()

    def _build_groups(self) -> None:
        by_name: dict[str, int] = {}
        for entry_index, entry in enumerate(self.entries):
            key = normalize(entry.name)
            if key not in by_name:
                by_name[key] = len(self._groups)
                self._groups.append([])
            self._groups[by_name[key]].append(entry_index)
            self._group_of.append(by_name[key])
        for members in self._groups:
            # The hotline's own catalogue first, then Guangzhou's record, then the province's.
            members.sort(key=lambda i: (self.entries[i].source != "project", "广州" not in self.entries[i].area, i))
        if not self._groups:
            return
        heads = [self.entries[members[0]] for members in self._groups]
        self._kinds = [kind_of(entry.name) for entry in heads]
        self._heads = [entry.name for entry in heads]
        self._families = [family(entry.name) for entry in heads]
        self._bases = [clean(entry.name) for entry in heads]
        self._name_words = [frozenset(t for t in tokens(clean(entry.name)) if not t.startswith("#")) for entry in heads]
        self._aliases = self._distinctive_aliases()
        self._names = FieldIndex(
            [
                name_text(
                    entry.name,
                    [a for i in members for a in self.entries[i].aliases],
                    [s for i in members for s in self.entries[i].situations],
                )
                for entry, members in zip(heads, self._groups, strict=True)
            ]
        )
        self._documents = FieldIndex(
            [
                document_text(entry.name, entry.department, [m for i in members for m in self.entries[i].materials])
                for entry, members in zip(heads, self._groups, strict=True)
            ]
        )
        if self.reading is not None:
            self._homophones = Homophones(self._names.words() | set(EXPANSIONS), self.reading)
        tokenizer = jieba_tokenizer()
        self._abbreviations = frozenset(
            word for word in self._names.words() if not tokenizer.FREQ.get(word) and is_abbreviation(word)
        )

    def _distinctive_aliases(self) -> list[frozenset[str]]:
        """Per candidate name: its aliases that no other service's names say (门特; not 签注, which 居住证签注 says)."""
        names = [
            "|".join(normalize(text) for i in members for text in (self.entries[i].name, *self.entries[i].aliases))
            for members in self._groups
        ]
        distinctive = []
        for group, members in enumerate(self._groups):
            aliases = {alias for i in members for a in self.entries[i].aliases if len(alias := normalize(a)) >= 2}
            distinctive.append(
                frozenset(a for a in aliases if not any(a in text for g, text in enumerate(names) if g != group))
            )
        return distinctive

    @classmethod
    def from_entries(cls, entries: Iterable[SearchEntry], min_score: float = 0.35) -> CatalogIndex:
        """Build the index from search entries."""
        return cls(entries=list(entries), min_score=min_score)

    def get(self, service_id: str) -> SearchEntry | None:
        """The entry of a service id, or None."""
        return self._by_id.get(service_id)

    def _cover_scores(self, query: str) -> tuple[dict[int, tuple[float, int]], set[str]]:
        """Per entry: how much of the query (its two-character pieces) a name or alias covers."""
        text = strip_fillers(correct(normalize(query)))
        grams = char_pairs(text)
        if not grams:
            return {}, grams
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
        return best, grams

    def _by_group(self, cover: dict[int, tuple[float, int]]) -> dict[int, tuple[float, int]]:
        """The best cover (score, field) of each candidate name, from the cover of each entry."""
        best: dict[int, tuple[float, int]] = {}
        for entry_index, (score, field_index) in cover.items():
            group = self._group_of[entry_index]
            if score > best.get(group, (0.0, -1))[0]:
                best[group] = (score, field_index)
        return best

    def rank(self, query: str, limit: int = 5) -> list[Candidate]:
        """The catalogue's names for ``query``, best first, with each field's evidence."""
        if not self._groups or self._names is None or self._documents is None:
            return []
        # Words the question only sounds like (底保: 低保) are added to it, as colloquial words' are.
        pieces = self._homophones.pieces(correct(clean(query))) if self._homophones is not None else []
        heard = [word for _, word in pieces]
        # How much of the question a name covers ranks it as said; what it covers for the confidence, and
        # which words were said, are read as heard: a slip (结昏 for 结婚) is no word the name leaves out.
        as_heard = query
        for piece, word in pieces:
            as_heard = as_heard.replace(piece, word)
        cover, said_grams = self._cover_scores(query)
        heard_cover, grams = self._cover_scores(as_heard) if pieces else (cover, said_grams)
        # A name or alias jieba has no word for (门特) is a word where it is said, not two characters.
        said = clean(query)
        correct_said = correct(said)
        abbreviations = [word for word in self._abbreviations if word in correct_said]
        # Each term once: the question is read twice (with and without the synonyms of ``normalize``),
        # and a word said three times is no more the service than a word said once.
        said_read, colloquial = expansion(" ".join([normalize(query), said, *heard]))
        terms = list(dict.fromkeys([*tokens(expand_read(said_read, colloquial)), *abbreviations]))
        name_scores = self._names.scores(terms)
        document_scores = self._documents.scores(terms)
        asked = self._asking_terms(query)
        if asked:
            # The clauses that ask count twice: a long question's story names other services too.
            name_scores = name_scores + ASKING_WEIGHT * self._names.scores(asked)
            document_scores = document_scores + ASKING_WEIGHT * self._documents.scores(asked)
        if not cover and not name_scores.any():
            return []
        group_cover, group_heard_cover = self._by_group(cover), self._by_group(heard_cover)
        top_name = float(name_scores.max()) or 1.0
        top_document = float(document_scores.max()) or 1.0
        pool = (
            set(group_cover)
            | set(np.argsort(-name_scores)[:30].tolist())
            | set(np.argsort(-document_scores)[:30].tolist())
        )
        said_text = correct(normalize(query))
        # What was said, word by word; a colloquial word and the catalogue's words for it are one thing
        # said (买房: 房屋买卖 商品房), explained when the service has any of them. A word many services
        # publish (申请, 证明) counts only for a service whose name says it (无犯罪记录证明), not for one
        # whose materials have it (申请表).
        colloquial_words = {frozenset(self._words(tokens(f"{word} {official}"))[0]) for word, official in colloquial}
        colloquial_words.discard(frozenset())
        plain, common_words = self._words(tokens(said_read))
        plain = (plain | set(abbreviations)).difference(*colloquial_words)
        query_words = _singles(plain) | colloquial_words
        any_words = set().union(*self._words(terms))
        said_terms = set(terms)
        said_plain, said_common = self._words(tokens(correct(normalize(as_heard))))
        said_words = _singles((said_plain - CIRCUMSTANCES) | set(abbreviations))
        # A loss said (结婚证弄丢了 → 补): where a candidate replaces what was lost (补领婚姻登记证), the others
        # (结婚登记, which issues it) rank lower.
        replacing = {g for g in pool if _REPLACING.search(self._heads[g])} if _REPLACING.search(said_text) else set()
        candidates = []
        for group in pool:
            name = float(name_scores[group]) / top_name
            document = float(document_scores[group]) / top_document
            cover_score, field_index = group_cover.get(group, (0.0, -1))
            if name <= 0 and cover_score <= 0:
                continue
            own = self._name_words[group]
            precision = len(own & said_terms) / len(own) if own else 0.0
            if any(alias in said_text for alias in self._aliases[group]):
                # An alias is a name too: who says 门特 has said all of one of the service's names.
                precision = 1.0
            fused = (
                (
                    FIELD_WEIGHTS["name"] * name
                    + FIELD_WEIGHTS["document"] * document
                    + FIELD_WEIGHTS["cover"] * cover_score
                    + FIELD_WEIGHTS["precision"] * precision
                )
                * kind_prior(self._kinds[group], said)
                * action_prior(self._heads[group], said)
                * group_prior(self._heads[group], said)
                * (LOST_ELSEWHERE if replacing and group not in replacing else 1.0)
            )
            heard_score, field_index = group_heard_cover.get(group, (0.0, -1))
            covered = frozenset(grams & self._fields[field_index][2]) if field_index >= 0 else frozenset()
            # Words the service publishes (户口簿 among its materials) are words it explains.
            named = self._names.terms(group)
            published = named | self._documents.terms(group)
            words = _explained_share(query_words | _singles(common_words & named), published, empty=0.0)
            said_share = _explained_share(said_words | _singles(said_common & named), published, empty=1.0)
            shares = bool(any_words & published)
            candidates.append(Candidate(group, fused, name, document, heard_score, covered, words, said_share, shares))
        # Names that score the same (用电服务移表 / 暂拆 / 改类): the one more of whose characters were said first.
        said_chars = set(said)
        candidates.sort(
            key=lambda c: (
                -c.score,
                -sum(ch in said_chars for ch in self._bases[c.group]) / len(self._bases[c.group] or "-"),
                c.group,
            )
        )
        candidates = _replacing_first(candidates, replacing)
        # At most two variants of one family among the first three, so that a third service is offered.
        first: list[Candidate] = []
        for candidate in candidates:
            if len(first) < 3 and sum(self._families[c.group] == self._families[candidate.group] for c in first) >= 2:
                continue
            first.append(candidate)
            if len(first) == 3:
                break
        rest = [c for c in candidates if c not in first]
        return (first + rest)[:limit]

    def _words(self, terms: Iterable[str]) -> tuple[set[str], set[str]]:
        """The index's words among ``terms``: those few services publish, and the common ones (申请, 证明)."""
        assert self._names is not None and self._documents is not None
        known = {term for term in terms if not term.startswith("#") and self._names.knows(term)}
        common = known & self._documents.common
        return known - common, common

    def _asking_terms(self, query: str) -> list[str]:
        """The index terms of the clauses of a long question that ask for something (none if short)."""
        part = asking_part(query)
        return list(dict.fromkeys(tokens(expand(" ".join([normalize(part), clean(part)]))))) if part else []

    def _qualified(self, query: str, entry: SearchEntry) -> bool:
        """Whether a name of the service is said right after a group of people it is not for, which makes it another
        thing (港澳居民居住证 is not 广东省居住证: the ninth blind set got the province's permit, sure)."""
        said = normalize(query)
        own = [text for text in (normalize(t) for t in (entry.name, *entry.aliases)) if text]
        if names_another_groups_document(said, own):
            return True
        for text in own:
            start = said.find(text)
            if start > 0 and (group := group_said(said[max(0, start - 4) : start])) and not group_named(group, own):
                return True
        return False

    def _match(self, candidate: Candidate) -> Match:
        entry = self.entries[self._groups[candidate.group][0]]
        return Match(entry=entry, score=round(min(candidate.score, 1.0), 4), covered=candidate.covered)

    def search(self, query: str, limit: int = 5) -> list[Match]:
        """The best-matching services for ``query``, best first (one per name)."""
        ranked = self.rank(query, limit=limit)
        if not ranked or not self._worth_offering(ranked[0]):
            return []
        return [self._match(c) for c in ranked]

    def _worth_offering(self, top: Candidate) -> bool:
        """Whether the best candidate's name shares enough with what was said to be offered at all."""
        return top.cover >= self.min_score or (top.name > 0 and top.shares_word)

    def confidence_features(self, ranked: list[Candidate]) -> dict[str, float]:
        """What the confidence is computed from: the margins between the first candidates."""
        top = ranked[0]
        second = ranked[1] if len(ranked) > 1 else None
        return {
            "margin": top.score - (second.score if second else 0.0),
            "ratio": (second.score / top.score) if second and top.score > 0 else 0.0,
            "cover": top.cover,
            "words": top.words,
            "name": top.name,
            "name_margin": top.name - max((c.name for c in ranked[1:]), default=0.0),
            "same_family": float(second is not None and self._families[second.group] == self._families[top.group]),
        }

    def confidence(self, ranked: list[Candidate]) -> float:
        """How likely the first candidate is the service meant (a logistic function of the margins)."""
        if not ranked:
            return 0.0
        features = self.confidence_features(ranked)
        z = CONFIDENCE_BIAS + sum(CONFIDENCE_WEIGHTS[name] * value for name, value in features.items())
        return 1.0 / (1.0 + math.exp(-z))

    def explain(self, query: str) -> tuple[dict[str, float], str | None]:
        """The confidence's features and the name of the first candidate (for calibration)."""
        ranked = self.rank(query, limit=5)
        if not ranked or not self._worth_offering(ranked[0]):
            return {}, None
        return self.confidence_features(ranked), self._match(ranked[0]).entry.name

    def resolve(self, query: str, choices: int = 3) -> Resolution:
        """One service when the ranking is clearly sure of it, otherwise the top few to choose from.

        A citizen who corrects themselves ("港澳通行证 不对不对 是去台湾的那个") means what follows the
        correction, when that alone names a service surely or likely; otherwise the whole question is read.
        """
        query = without_repeats(query)
        had = _ALREADY_HAD.search(query)
        if had is not None:
            return self._beside_what_they_have(query, had, choices)
        holds = _HOLDS_A_DOCUMENT.search(query)
        if holds is not None:
            # 我个仔有残疾证，二级，想每个月领嗰啲钱 (the tenth blind set got 残疾人证办理): the document held is no
            # answer when the rest of the question asks for another service; when it asks about that one (有驾照,
            # 想换证), it is read whole.
            beside = self._beside_what_they_have(query, holds, choices)
            return beside if beside.found else self._resolve(query, choices)
        corrected = said_after_correction(query)
        after = self._resolve(corrected, choices) if corrected else None
        if after is not None and (after.sure or (after.likely and after.confidence >= CORRECTED_LIKELY)):
            return after
        resolution = self._resolve(query, choices)
        if after is not None and after.found and after.confidence >= CORRECTED_LIKELY:
            return self._without_taken_back(query, query[: query.rfind(corrected)], resolution, after, choices)
        return resolution

    def _beside_what_they_have(self, query: str, had: re.Match[str], choices: int) -> Resolution:
        """What is asked beside a service the citizen already has (营业执照已经下来了，现在就差卖吃的那个证: the ninth
        blind set's test half got 个体工商户设立登记, sure): that service is never the answer."""
        had_resolution = self._resolve(had.group(1), choices)
        rest = self._resolve(query[: had.start()] + query[had.end() :], choices)
        if not had_resolution.found:
            return rest
        have = had_resolution.matches[0].entry.id
        if (rest.sure or rest.likely) and rest.matches[0].entry.id != have:
            return replace(rest, matches=[m for m in rest.matches if m.entry.id != have])
        if had.re is _HOLDS_A_DOCUMENT and rest.found and rest.matches[0].entry.id == have:
            return Resolution(matches=[], sure=False)  # the rest asks about the document held: read whole
        others = [m for m in (self._match(c) for c in self.rank(query, limit=choices + 1)) if m.entry.id != have]
        return Resolution(matches=others[:choices], sure=False, confidence=0.0)

    def _without_taken_back(
        self, query: str, taken_back: str, resolution: Resolution, after: Resolution, choices: int
    ) -> Resolution:
        """The choices without the service the citizen took back for another (我想问一下门诊特定病种怎么申请，哦不对，
        …我想问的是住院的钱回来报销: the ninth blind set got 门特 as the likely one), when the whole question would
        answer with it; else ``resolution``."""
        if not taken_back or not (resolution.sure or resolution.likely):
            return resolution
        meant = resolution.matches[0].entry.id
        before = self._resolve(taken_back, choices)
        if not before.found or before.matches[0].entry.id != meant or after.matches[0].entry.id == meant:
            return resolution
        others = [m for m in (self._match(c) for c in self.rank(query, limit=choices + 1)) if m.entry.id != meant]
        return Resolution(matches=others[:choices], sure=False, confidence=resolution.confidence)

    def _resolve(self, query: str, choices: int) -> Resolution:
        ranked = self.rank(query, limit=max(choices, 5))
        if not ranked or not self._worth_offering(ranked[0]):
            return Resolution(matches=[], sure=False)
        confidence = self.confidence(ranked)
        matches = [self._match(c) for c in ranked]
        top = ranked[0]
        # Words of the query the best match leaves out but another match explains
        # (台湾通行证"签注" against 台湾通行证"签发"): the choice is the citizen's.
        # A word many services publish (申请) explains no service in particular.
        common = self._documents.common if self._documents is not None else frozenset()
        left_out = char_pairs(strip_fillers(query)) - top.covered - common
        # Only a close contender (within 60% of the score) counts: 残疾人证 explaining 换证 does not.
        explained_elsewhere = any(
            left_out & other.covered for other in ranked[1:choices] if other.score >= top.score * 0.6
        )
        # Sure only when enough of what was said is covered too ("火星签证" is not 居留许可, however lonely).
        # And never when another candidate scores nearly as well ("证明": 完税证明 0.77, 无犯罪记录证明 0.76).
        clear_lead = len(ranked) < 2 or ranked[1].score <= top.score * 0.9
        covered = top.cover >= self.min_score * 0.75
        if (
            confidence >= SURE_CONFIDENCE
            and clear_lead
            and not explained_elsewhere
            and covered
            and top.said_words >= SURE_WORDS
            and not self._qualified(query, matches[0].entry)
        ):
            return Resolution(matches=matches[:1], sure=True, confidence=round(confidence, 4))
        # "公积金" (提取, 贷款 or 转移?) has no clear lead; one weak candidate (火星签证) is a yes/no question; a name
        # said for a group it is not for is another thing, offered, never answered as a guess.
        another_thing = self._qualified(query, matches[0].entry)
        likely = confidence >= LIKELY_CONFIDENCE and clear_lead and len(matches) > 1 and not another_thing
        return Resolution(
            matches=matches[:choices],
            sure=False,
            confidence=round(confidence, 4),
            likely=likely,
            another_thing=another_thing,
        )


# Fitted by ``python bench/eval_catalog.py --calibrate`` on the dev half (see SURE_CONFIDENCE).
CONFIDENCE_BIAS = 0.382
CONFIDENCE_WEIGHTS = {
    "margin": 1.165,
    "ratio": -1.224,
    "cover": 2.600,
    "words": 0.928,
    "name": -0.338,
    "name_margin": -0.178,
    "same_family": -0.154,
}


def _singles(words: set[str]) -> set[frozenset[str]]:
    """Each word as a thing said of its own."""
    return {frozenset({word}) for word in words}


def _explained_share(words: set[frozenset[str]], published: frozenset[str], empty: float) -> float:
    """The share of the things said (each a word, or a colloquial word with the catalogue's words for it)
    that the ``published`` words explain (``empty`` when nothing was said)."""
    if not words:
        return empty
    return sum(1 for word in words if word & published) / len(words)


def _replacing_first(candidates: list[Candidate], replacing: set[int]) -> list[Candidate]:
    """With a loss said, the first service that replaces the lost document, names all the leader names and
    scores at least ``LOST_ELSEWHERE`` of it takes the leader's place and score (结婚证搬家的时候弄丢了，要补一个:
    补领婚姻登记证, 0.32 against 0.52, before 结婚登记, which issues it). A weaker one does not: 身份证丢了补办了…
    能查一下好了没 stays 居民身份证办理进度查询 (0.49) before 补发外国人永久居留身份证 (0.27)."""
    if not replacing or not candidates or candidates[0].group in replacing or not candidates[0].covered:
        return candidates
    leader = candidates[0]
    for index, candidate in enumerate(candidates[1:], 1):
        strong = candidate.score >= leader.score * LOST_ELSEWHERE
        if candidate.group in replacing and candidate.covered >= leader.covered and strong:
            swapped = list(candidates)
            swapped[0] = replace(candidate, score=leader.score)
            swapped[index] = replace(leader, score=candidate.score)
            return swapped
    return candidates
