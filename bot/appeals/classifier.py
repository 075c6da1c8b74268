"""Classifying a citizen's appeal (type, category of the real three-level tree, confidence) from labelled examples."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import joblib
import numpy as np
import sklearn
from scipy.sparse import hstack, spmatrix
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from bot.appeals.categories import Category, CategoryTree, load_categories, taxonomy_path
from bot.appeals.examples import EXAMPLES_PATH, Example, read_examples, split_examples
from bot.appeals.keywords import KEYWORDS_PATH, Keywords, read_keywords
from bot.appeals.routing import route
from bot.appeals.text import normalise
from bot.core.settings import PROJECT_ROOT

# Where fitted classifiers are kept between processes (each server start would otherwise fit again).
CACHE_DIR = PROJECT_ROOT / "var" / "cache"
logger = logging.getLogger(__name__)
# jieba's dictionaries: the catalogue's generated one and the appeals' own words (incl. Cantonese).
USERDICTS = (PROJECT_ROOT / "data" / "jieba" / "userdict.txt", PROJECT_ROOT / "data" / "appeals" / "userdict.txt")
# The fewest examples a second or third level needs to be learnt (the calibration's 3 folds each need one).
MIN_LABEL_EXAMPLES = 3
# The modules of this package whose code decides what the fitted classifier is (part of its cache key).
MODEL_MODULES = ("classifier.py", "text.py", "examples.py", "keywords.py")
_PUNCTUATION = re.compile(r"^[\W_]+$")


@dataclass(frozen=True)
class Classification:
    """What the classifier says a message is; ``confidence`` is the probability of the first two levels.

    ``category`` is (level1, level2, level3) when the classifier is sure enough of the third level
    (``ModelConfig.third_min_share``), else (level1, level2).
    """

    type: str
    category: Category
    department: str | None
    confidence: float


@dataclass(frozen=True)
class ModelConfig:
    """The classifier's settings (chosen by cross-validation on the train split, see bench/appeal_eval.py)."""

    c: float = 1.0
    title_weight: int = 2
    word_ngrams: tuple[int, int] = (1, 1)
    char_ngrams: tuple[int, int] = (1, 2)
    use_words: bool = True
    keyword_weight: float = 0.2
    # Shares of the first-level probabilities taken from the pair model (its children summed) and from a
    # naive Bayes model of the n-grams; the rest comes from the first-level model itself.
    pair_weight: float = 0.7
    bayes_weight: float = 0.3
    # Whether Cantonese spellings are rewritten to standard words before the n-grams are read.
    rewrite: bool = True
    # Platt scaling (slope, intercept on the logit) of the raw probability of the category pair, fitted on
    # the cross-validated predictions of the train split (printed by bench/appeal_eval.py --cv; 2026-12-05).
    confidence_scaling: tuple[float, float] = (1.6, 1.1)
    # The third level is given only when its probability among the children of the predicted second level is at
    # least this and the pair's confidence at least ``third_min_confidence`` (else the category has two levels).
    # Chosen on the board set's dev half (2026-12-05): a third level for half of its messages, the whole path
    # right for 0.72 of those (0.84 on the held-out split); 0.6 and 0.5 gave one to 0.76, right for 0.59.
    third_min_share: float = 0.7
    third_min_confidence: float = 0.8


@functools.lru_cache(maxsize=1)
def _tokenizer() -> object:
    """A jieba tokenizer of its own (Rasa's global one is left alone) with the project's dictionaries."""
    import jieba

    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    for path in USERDICTS:
        if path.exists():
            tokenizer.load_userdict(str(path))
    return tokenizer


def words(text: str) -> list[str]:
    """jieba's words of a normalised text, punctuation and spaces left out."""
    tokens = _tokenizer().lcut(text)  # type: ignore[attr-defined]
    return [token for token in tokens if token.strip() and not _PUNCTUATION.match(token)]


def message_text(title: str, text: str, title_weight: int) -> str:
    """The text the model reads: the title (repeated ``title_weight`` times) then the message."""
    parts = [normalise(title)] * title_weight if title.strip() else []
    return " 。 ".join([*parts, normalise(text)])


@dataclass(frozen=True)
class WordNgrams:
    """The vectorizer's analyzer: jieba words of a message and their n-grams within ``ngrams``."""

    ngrams: tuple[int, int]

    def __call__(self, text: str) -> list[str]:
        """The message's word n-grams."""
        tokens = words(text)
        low, high = self.ngrams
        grams = []
        for size in range(low, high + 1):
            grams += [" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)]
        return grams


def fit_ngram_vectorizers(
    texts: Sequence[str], char_ngrams: tuple[int, int], word_analyzer: Callable[[str], list[str]] | None
) -> tuple[TfidfVectorizer, TfidfVectorizer | None]:
    """Character n-gram and (given a word analyzer) word TF-IDF vectorizers fitted on the texts."""
    chars = TfidfVectorizer(analyzer="char", ngram_range=char_ngrams, sublinear_tf=True)
    chars.fit(texts)
    if word_analyzer is None:
        return chars, None
    word_grams = TfidfVectorizer(analyzer=word_analyzer, sublinear_tf=True, lowercase=False)
    word_grams.fit(texts)
    return chars, word_grams


def ngram_blocks(
    chars: TfidfVectorizer | None, word_grams: TfidfVectorizer | None, texts: Sequence[str]
) -> list[spmatrix]:
    """The character and (when fitted) word n-gram features of the texts, one block each."""
    if chars is None:
        raise RuntimeError("the classifier has not been fitted")
    blocks = [chars.transform(texts)]
    if word_grams is not None:
        blocks.append(word_grams.transform(texts))
    return blocks


def scaled_confidence(raw: float, config: ModelConfig) -> float:
    """The raw probability of a category pair mapped by the configured Platt scaling, in [0, 1]."""
    slope, intercept = config.confidence_scaling
    clipped = min(max(raw, 1e-6), 1 - 1e-6)
    return float(1 / (1 + np.exp(-(slope * np.log(clipped / (1 - clipped)) + intercept))))


def linear_model(c: float) -> CalibratedClassifierCV:
    """A linear SVM fitted on all examples, its scores calibrated (sigmoid) on 3-fold cross-validated scores.

    One SVM rather than an ensemble of three: the same accuracy in cross-validation, a third of the time to
    classify a message.
    """
    return CalibratedClassifierCV(LinearSVC(C=c), cv=3, ensemble=False)


class AppealClassifier:
    """Character n-grams, jieba words and keyword hits; calibrated linear SVMs for the first level, the pair, the
    full path and the type, and a naive Bayes model of the n-grams; the first level blends the three category models;
    the third level is the likeliest child of the predicted pair, given when it is likely enough."""

    def __init__(self, tree: CategoryTree, keywords: Keywords, config: ModelConfig | None = None) -> None:
        self.tree = tree
        self.keywords = keywords
        self.config = config or ModelConfig()
        self._chars: TfidfVectorizer | None = None
        self._words: TfidfVectorizer | None = None
        self._first = linear_model(self.config.c)
        self._pair = linear_model(self.config.c)
        self._path = linear_model(self.config.c)
        self._type = linear_model(self.config.c)
        self._bayes = ComplementNB(alpha=0.3)
        # pair_to_first[i, j] = 1 when the pair model's class i is a child of the first-level model's class j.
        self._pair_to_first = np.zeros((0, 0))
        # Digests of the messages it was fitted on (to show that no held-out message was among them).
        self.fitted_digests: frozenset[str] = frozenset()

    def _features(self, texts: Sequence[str], fit: bool = False) -> tuple[spmatrix, spmatrix]:
        """(all features, n-gram features only) of message texts (built by ``message_text``)."""
        if self.config.rewrite:
            rewritten = [self.keywords.rewrite(text) for text in texts]
            # Keywords are looked for in both spellings (the lexicon has Cantonese words too).
            keyword_texts = [
                text if new == text else f"{text} 。 {new}" for text, new in zip(texts, rewritten, strict=True)
            ]
            texts = rewritten
        else:
            keyword_texts = list(texts)
        if fit:
            analyzer = WordNgrams(self.config.word_ngrams) if self.config.use_words else None
            self._chars, self._words = fit_ngram_vectorizers(texts, self.config.char_ngrams, analyzer)
        blocks = ngram_blocks(self._chars, self._words, texts)
        ngrams = hstack(blocks).tocsr()
        if self.config.keyword_weight:
            blocks.append(self.keywords.features(keyword_texts) * self.config.keyword_weight)
        return hstack(blocks).tocsr(), ngrams

    def fit(self, examples: Sequence[Example]) -> AppealClassifier:
        """Fit the three models on labelled examples."""
        texts = [message_text(e.title, e.text, self.config.title_weight) for e in examples]
        features, ngrams = self._features(texts, fit=True)
        firsts = np.array([e.category[0] for e in examples])
        self._first.fit(features, firsts)
        for model, labels in (
            (self._pair, ["/".join(e.category[:2]) for e in examples]),
            (self._path, ["/".join(e.category) for e in examples]),
        ):
            # A label with fewer examples than the calibration's folds is left out of that model (never predicted).
            counts = Counter(labels)
            rows = [i for i, label in enumerate(labels) if counts[label] >= MIN_LABEL_EXAMPLES]
            model.fit(features[rows], np.array([labels[i] for i in rows]))
        self._type.fit(features, np.array([e.type for e in examples]))
        self._bayes.fit(ngrams, firsts)
        first_labels = [str(label) for label in self._first.classes_]
        self._pair_to_first = np.array(
            [[label.split("/", 1)[0] == first for first in first_labels] for label in map(str, self._pair.classes_)],
            dtype=float,
        )
        self.fitted_digests = frozenset(e.digest() for e in examples)
        return self

    def predict_many(self, messages: Sequence[tuple[str, str]]) -> list[Classification]:
        """Classify (title, text) pairs; the second level is the likeliest child of the predicted first level, the
        third the likeliest child of that pair when it is likely enough."""
        if not messages:
            return []
        features, ngrams = self._features(
            [message_text(title, text, self.config.title_weight) for title, text in messages]
        )
        pair_probabilities = self._pair.predict_proba(features)
        first_probabilities = self._first_level_probabilities(features, ngrams, pair_probabilities)
        type_probabilities = self._type.predict_proba(features)
        path_probabilities = self._path.predict_proba(features)
        pair_labels = [str(label) for label in self._pair.classes_]
        path_labels = [str(label) for label in self._path.classes_]
        results = []
        for row in range(len(messages)):
            best_first = int(np.argmax(first_probabilities[row]))
            first = str(self._first.classes_[best_first])
            children = [i for i, label in enumerate(pair_labels) if label.split("/", 1)[0] == first]
            child_probabilities = pair_probabilities[row, children]
            best_child = int(np.argmax(child_probabilities))
            second = pair_labels[children[best_child]].split("/", 1)[1]
            share = float(child_probabilities[best_child] / max(float(child_probabilities.sum()), 1e-12))
            confidence = scaled_confidence(float(first_probabilities[row, best_first]) * share, self.config)
            kind = str(self._type.classes_[int(np.argmax(type_probabilities[row]))])
            category: Category = (first, second)
            third = self._third(path_labels, path_probabilities[row], f"{first}/{second}/")
            if third is not None and confidence >= self.config.third_min_confidence:
                category = (first, second, third)
            results.append(Classification(kind, category, None, round(confidence, 4)))
        return results

    def _third(self, labels: list[str], probabilities: np.ndarray, prefix: str) -> str | None:
        """The likeliest third level under ``prefix`` (``first/second/``) when its share there is large enough."""
        children = [i for i, label in enumerate(labels) if label.startswith(prefix)]
        if not children:
            return None
        shares = probabilities[children]
        best = int(np.argmax(shares))
        if float(shares[best]) / max(float(shares.sum()), 1e-12) < self.config.third_min_share:
            return None
        return labels[children[best]].removeprefix(prefix)

    def _first_level_probabilities(
        self, features: spmatrix, ngrams: spmatrix, pair_probabilities: np.ndarray
    ) -> np.ndarray:
        """The first-level model's probabilities blended with the pair model's (children summed) and Bayes's."""
        probabilities = self._first.predict_proba(features)
        pair_weight, bayes_weight = self.config.pair_weight, self.config.bayes_weight
        if pair_weight:
            probabilities = (1 - pair_weight) * probabilities + pair_weight * (pair_probabilities @ self._pair_to_first)
        if bayes_weight:
            probabilities = (1 - bayes_weight) * probabilities + bayes_weight * self._bayes.predict_proba(ngrams)
        return np.asarray(probabilities)

    def predict(self, title: str, text: str) -> Classification:
        """Classify one message."""
        return self.predict_many([(title, text)])[0]


# One fitting at a time: a report filed while the start-up warm-up fits waits for it, not fits again.
_fitting = threading.Lock()


def trained_classifier() -> AppealClassifier:
    """The classifier fitted on the train split of data/appeals/examples, built once per process."""
    with _fitting:
        return _fitted()


def fingerprint() -> str:
    """A digest of what the classifier is fitted from: the examples, keywords, the tree, its modules, scikit-learn."""
    digest = hashlib.sha256(sklearn.__version__.encode())
    files = [
        *sorted(p for p in EXAMPLES_PATH.rglob("*") if p.is_file()),
        KEYWORDS_PATH,
        taxonomy_path(),
        *(Path(__file__).with_name(name) for name in MODEL_MODULES),
    ]
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def _fitted() -> AppealClassifier:
    """The fitted classifier from the cache under var/ when it was fitted from the same data, else fitted (~9 s).

    Raises:
        CategoryError: the classification tree (APPEAL_TAXONOMY_FILE) is missing or broken.
    """
    tree = load_categories()  # first: a missing tree is said as such, with its file and setting
    cache = CACHE_DIR / f"appeal-classifier-{fingerprint()}.joblib"
    try:
        cached = joblib.load(cache)
        if isinstance(cached, AppealClassifier):
            return cached
    except FileNotFoundError:
        pass
    except Exception as error:  # a truncated or foreign file: fitted again and replaced
        logger.warning("appeal classifier cache %s unreadable (%s); fitting again", cache.name, type(error).__name__)
    train, _ = split_examples(read_examples(EXAMPLES_PATH, tree))
    classifier = AppealClassifier(tree, read_keywords(KEYWORDS_PATH, tree)).fit(train)
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.partial")
        joblib.dump(classifier, partial)
        os.replace(partial, cache)  # whole or not at all, for the other processes
    except OSError as error:
        logger.warning("appeal classifier not cached: %s", error)
    return classifier


class Predictor(Protocol):
    """What classifies a message: the built-in classifier or a centre's trained model (bot.appeals.training)."""

    def predict(self, title: str, text: str) -> Classification:
        """Classify one message."""


def current_classifier() -> Predictor:
    """The centre's trained model when APPEAL_MODEL_DIR names one (an error when it is missing or broken), else
    the built-in classifier."""
    from bot.appeals.model_store import configured_model

    configured = configured_model()
    return configured.classifier if configured is not None else trained_classifier()


def classify(title: str, text: str, model: Predictor | None = None) -> Classification:
    """Type, category and confidence of a message, and the city-wide department (no district known here).

    ``model`` None: the current classifier (``current_classifier``).
    """
    if not (title.strip() or text.strip()):
        raise ValueError("an empty message cannot be classified")
    result = (model or current_classifier()).predict(title, text)
    return replace(result, department=route(result.category, None))
