"""A classifier a centre trains on its own history together with the project's examples, and how it is measured.

The centre's messages are few (hundreds) against the project's thousands, and they read differently
(titles and long formal posts, the centre's own habits of filing). So the history is weighted to a
fixed share of the training weight, and every feature is also given a copy that only the centre's
messages switch on (Daumé's feature augmentation): the model learns what holds everywhere from all
messages and what is particular to the centre from its own, and classifies a new message as the
centre's. Its first level blends, as the built-in classifier's does, the pair model (children summed)
and a naive Bayes model, and then the built-in classifier's own answer (fitted on our examples alone,
kept inside the model). It is measured by stratified k-fold cross-validation on the centre's data against a plain
character-n-gram linear SVM trained on the same folds (``cross_validate``).
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np
from scipy.sparse import csr_matrix, hstack, spmatrix
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.svm import LinearSVC

from bot.appeals.classifier import (
    Classification,
    fit_ngram_vectorizers,
    linear_model,
    message_text,
    ngram_blocks,
    words,
)
from bot.appeals.examples import Example
from bot.appeals.history import HistoryRecord
from bot.appeals.keywords import Keywords

# Folds of the cross-validation (fewer when the rarest first level of the history has fewer messages).
FOLDS = 5
# The fewest messages a first level, a pair or a type needs to be learnt (the calibration's folds each need one).
LABEL_MIN = 3


class Predictor(Protocol):
    """A fitted classifier of many messages at once (the built-in ``AppealClassifier``)."""

    def predict_many(self, messages: Sequence[tuple[str, str]]) -> list[Classification]:
        """Classify (title, text) pairs."""


@dataclass(frozen=True)
class TrainingConfig:
    """How a centre's model is trained: history_share and builtin_weight were chosen by cross-validation on
    data/eval/centre_history (not blind, see its README); the rest follows the built-in classifier."""

    # Share of the total training weight carried by the centre's history (the project's examples carry the rest).
    history_share: float = 0.25
    # A copy of every feature that only the centre's messages have (domain adaptation); False: shared features only.
    augment: bool = True
    c: float = 0.5
    char_ngrams: tuple[int, int] = (1, 3)
    title_weight: int = 2
    use_words: bool = True
    keyword_weight: float = 0.2
    # Shares of the first-level probabilities taken from the pair model (its children summed) and from a naive
    # Bayes model of the features, as in the built-in classifier; the rest comes from the first-level model.
    pair_weight: float = 0.7
    bayes_weight: float = 0.3
    # Share of the first level taken from the built-in classifier's answer (weighted by its confidence), which
    # never saw the centre's messages; 0: the trained model alone.
    builtin_weight: float = 0.5


@dataclass(frozen=True)
class Sample:
    """One training message: from the centre's history or from the project's examples."""

    title: str
    text: str
    first: str
    pair: tuple[str, str] | None
    type: str | None
    centre: bool


def history_samples(records: Sequence[HistoryRecord]) -> list[Sample]:
    """The centre's records as samples."""
    return [Sample(r.title, r.text, r.level1, r.pair, r.type or None, True) for r in records]


def example_samples(examples: Sequence[Example], pair_is_known: Callable[[str, str], bool]) -> list[Sample]:
    """The project's examples as samples; a second level counts only where it is a pair of the centre's tree."""
    samples = []
    for e in examples:
        first, second = e.category[0], e.category[1]
        pair = (first, second) if pair_is_known(first, second) else None
        samples.append(Sample(e.title, e.text, first, pair, e.type, False))
    return samples


@functools.lru_cache(maxsize=50_000)
def _words(text: str) -> tuple[str, ...]:
    """jieba's words of a text, kept (cross-validation reads the same texts once per fold)."""
    return tuple(words(text))


@dataclass(frozen=True)
class CachedWordNgrams:
    """The word analyzer: jieba words (cached) and their bigrams."""

    def __call__(self, text: str) -> list[str]:
        """The message's words and word bigrams."""
        tokens = _words(text)
        return [*tokens, *(" ".join(tokens[i : i + 2]) for i in range(len(tokens) - 1))]


def learnable(labels: Sequence[str]) -> list[int]:
    """The rows whose label ("" for none) is given to at least ``LABEL_MIN`` messages."""
    counts = Counter(labels)
    return [row for row, label in enumerate(labels) if label and counts[label] >= LABEL_MIN]


class CentreClassifier:
    """Character and word n-grams and keyword hits, each with a centre-only copy; calibrated linear SVMs for the
    first level, the pair (first/second) and the type and a naive Bayes model, fitted with the history weighted to
    its share; the first level blends them with the built-in classifier's answer."""

    def __init__(
        self, keywords: Keywords, config: TrainingConfig | None = None, builtin: Predictor | None = None
    ) -> None:
        self.keywords = keywords
        self.config = config or TrainingConfig()
        # The built-in classifier (fitted on the project's examples alone), kept with the model and blended in.
        self.builtin = builtin if self.config.builtin_weight else None
        self._chars: TfidfVectorizer | None = None
        self._words: TfidfVectorizer | None = None
        self._first = linear_model(self.config.c)
        self._type = linear_model(self.config.c)
        self._pair: CalibratedClassifierCV | None = None
        self._bayes = ComplementNB(alpha=0.3)
        self.pairs: tuple[str, ...] = ()
        # pair_to_first[i, j] = 1 when pair i is a child of the first-level model's class j.
        self._pair_to_first = np.zeros((0, 0))

    def _text(self, title: str, text: str) -> str:
        return self.keywords.rewrite(message_text(title, text, self.config.title_weight))

    def _features(self, texts: Sequence[str], centre: Sequence[bool], fit: bool = False) -> spmatrix:
        """Shared features of each text, then (augmented) the same again for the centre's texts, zero for ours."""
        if fit:
            analyzer = CachedWordNgrams() if self.config.use_words else None
            self._chars, self._words = fit_ngram_vectorizers(texts, self.config.char_ngrams, analyzer)
        blocks = ngram_blocks(self._chars, self._words, texts)
        if self.config.keyword_weight:
            blocks.append(self.keywords.features(texts) * self.config.keyword_weight)
        shared = hstack(blocks).tocsr()
        if not self.config.augment:
            return shared
        mask = csr_matrix(np.asarray(centre, dtype=float).reshape(-1, 1))
        return hstack([shared, shared.multiply(mask)]).tocsr()

    def _weights(self, samples: Sequence[Sample]) -> np.ndarray:
        """1 for each example of ours; each history message weighted so that the history has its share."""
        centre = sum(s.centre for s in samples)
        ours = len(samples) - centre
        share = self.config.history_share
        history_weight = share / (1 - share) * ours / centre if centre and ours else 1.0
        return np.array([history_weight if s.centre else 1.0 for s in samples])

    def fit(self, samples: Sequence[Sample], with_type: bool = True) -> CentreClassifier:
        """Fit the first-level, pair and (unless ``with_type`` is False, as in cross-validation) type models."""
        features = self._features([self._text(s.title, s.text) for s in samples], [s.centre for s in samples], True)
        weights = self._weights(samples)
        # A first level, pair or type with fewer messages than the calibration's folds is left out of its model
        # (never predicted).
        rows = learnable([s.first for s in samples])
        firsts = np.array([samples[i].first for i in rows])
        self._first.fit(features[rows], firsts, sample_weight=weights[rows])
        self._bayes.fit(features[rows], firsts, sample_weight=weights[rows])
        rows = learnable(["/".join(s.pair) if s.pair is not None else "" for s in samples])
        labels = np.array(["/".join(samples[i].pair or ()) for i in rows])
        self._pair, self.pairs = None, ()
        if len(set(labels)) == 1:  # one pair only: a classifier needs two classes, the answer is that pair
            self.pairs = (str(labels[0]),)
        elif len(set(labels)) > 1:
            self._pair = CalibratedClassifierCV(LinearSVC(C=self.config.c), cv=LABEL_MIN, ensemble=False)
            self._pair.fit(features[rows], labels, sample_weight=weights[rows])
            self.pairs = tuple(str(label) for label in self._pair.classes_)
        self._pair_to_first = np.array(
            [[pair.split("/", 1)[0] == first for first in self.first_levels()] for pair in self.pairs], dtype=float
        ).reshape(len(self.pairs), len(self.first_levels()))
        if with_type:
            rows = learnable([s.type or "" for s in samples])
            self._type.fit(features[rows], np.array([samples[i].type for i in rows]), sample_weight=weights[rows])
        return self

    def first_levels(self) -> tuple[str, ...]:
        """The first levels it can answer."""
        return tuple(str(label) for label in self._first.classes_)

    def predict_many(self, messages: Sequence[tuple[str, str]]) -> list[Classification]:
        """Classify (title, text) pairs as the centre's messages; the second level is the likeliest child of the
        first ("" when the model learned no second level under it)."""
        if not messages:
            return []
        features = self._features([self._text(title, text) for title, text in messages], [True] * len(messages))
        first_probabilities = self._first.predict_proba(features)
        if self._pair is not None:
            pair_scores = self._pair.predict_proba(features)
            weight = self.config.pair_weight
            first_probabilities = (1 - weight) * first_probabilities + weight * (pair_scores @ self._pair_to_first)
        else:
            pair_scores = np.ones((len(messages), len(self.pairs)))
        weight = self.config.bayes_weight
        first_probabilities = (1 - weight) * first_probabilities + weight * self._bayes.predict_proba(features)
        if self.builtin is not None:
            votes = np.zeros_like(first_probabilities)
            columns = {str(label): column for column, label in enumerate(self._first.classes_)}
            for row, answer in enumerate(self.builtin.predict_many(messages)):
                if answer.category[0] in columns:
                    votes[row, columns[answer.category[0]]] = answer.confidence
            weight = self.config.builtin_weight
            first_probabilities = (1 - weight) * first_probabilities + weight * votes
        kinds = self._type.predict(features) if hasattr(self._type, "calibrated_classifiers_") else None
        results = []
        for row in range(len(messages)):
            best = int(np.argmax(first_probabilities[row]))
            first = str(self._first.classes_[best])
            children = [i for i, label in enumerate(self.pairs) if label.split("/", 1)[0] == first]
            second, share = "", 1.0
            if children:
                child_scores = pair_scores[row, children]
                chosen = int(np.argmax(child_scores))
                second = self.pairs[children[chosen]].split("/", 1)[1]
                share = float(child_scores[chosen] / max(float(child_scores.sum()), 1e-12))
            confidence = float(first_probabilities[row, best]) * share
            kind = str(kinds[row]) if kinds is not None else ""
            results.append(Classification(kind, (first, second), None, round(confidence, 4)))
        return results

    def predict(self, title: str, text: str) -> Classification:
        """Classify one message."""
        return self.predict_many([(title, text)])[0]


def plain_svm() -> Pipeline:
    """The baseline: TF-IDF of character 1-3-grams of title and text, a linear SVM (scikit-learn's defaults)."""
    return make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3)), LinearSVC())


def _plain_text(record: HistoryRecord) -> str:
    return f"{record.title} {record.text}".strip()


@dataclass(frozen=True)
class CrossValidation:
    """Cross-validated accuracy on the centre's data of the trained model and of the plain SVM, same folds."""

    folds: int
    messages: int
    first: float
    first_plain_svm: float
    # Over the messages that give a second level (None when none does).
    with_second: int
    pair: float | None
    pair_plain_svm: float | None
    seconds: float

    def as_dict(self) -> dict[str, object]:
        """For the manifest."""
        return asdict(self)


def fold_count(records: Sequence[HistoryRecord]) -> int:
    """FOLDS, or fewer when the rarest first level has fewer messages; 0 when it cannot be cross-validated."""
    counts: dict[str, int] = {}
    for record in records:
        counts[record.level1] = counts.get(record.level1, 0) + 1
    folds = min(FOLDS, min(counts.values(), default=0))
    return folds if folds >= 2 and len(counts) >= 2 else 0


def cross_validate(
    records: Sequence[HistoryRecord],
    ours: Sequence[Sample],
    keywords: Keywords,
    config: TrainingConfig,
    progress: Callable[[int, int], None] | None = None,
    builtin: Predictor | None = None,
) -> CrossValidation | None:
    """Stratified k-fold on the history (by first level): each fold's model is trained on our examples and the
    other folds, the plain SVM on the other folds alone. None when the history is too small to fold."""
    folds = fold_count(records)
    if not folds:
        return None
    started = time.perf_counter()
    labels = np.array([r.level1 for r in records])
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    first_right = first_plain = pair_right = pair_plain = 0
    with_second = [i for i, r in enumerate(records) if r.level2]
    for fold, (train_rows, test_rows) in enumerate(splitter.split(np.zeros(len(records)), labels), start=1):
        train = [records[i] for i in train_rows]
        test = [records[i] for i in test_rows]
        model = CentreClassifier(keywords, config, builtin).fit([*ours, *history_samples(train)], with_type=False)
        results = model.predict_many([(r.title, r.text) for r in test])
        first_right += sum(r.level1 == result.category[0] for r, result in zip(test, results, strict=True))
        pair_right += sum(
            bool(r.level2) and (r.level1, r.level2) == result.category for r, result in zip(test, results, strict=True)
        )
        baseline = plain_svm().fit([_plain_text(r) for r in train], [r.level1 for r in train])
        first_plain += int(
            np.sum(baseline.predict([_plain_text(r) for r in test]) == np.array([r.level1 for r in test]))
        )
        pair_train = [r for r in train if r.level2]
        pair_test = [r for r in test if r.level2]
        if pair_test and len({(r.level1, r.level2) for r in pair_train}) >= 2:
            baseline = plain_svm().fit(
                [_plain_text(r) for r in pair_train], [f"{r.level1}/{r.level2}" for r in pair_train]
            )
            predicted = baseline.predict([_plain_text(r) for r in pair_test])
            pair_plain += int(np.sum(predicted == np.array([f"{r.level1}/{r.level2}" for r in pair_test])))
        if progress:
            progress(fold, folds)
    n = len(records)
    n_second = len(with_second)
    return CrossValidation(
        folds=folds,
        messages=n,
        first=round(first_right / n, 4),
        first_plain_svm=round(first_plain / n, 4),
        with_second=n_second,
        pair=round(pair_right / n_second, 4) if n_second else None,
        pair_plain_svm=round(pair_plain / n_second, 4) if n_second else None,
        seconds=round(time.perf_counter() - started, 1),
    )
