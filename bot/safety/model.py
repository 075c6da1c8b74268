"""A second ear for danger: a character n-gram classifier for what the word lists in ``danger`` miss.

The word lists say which danger and which number, and they hear only what someone listed. Held out, a
blind set of 393 messages showed them finding 59% of the dangers (``bench/eval_safety.py``). This model
hears danger said in other words: a logistic regression on character 1-3-grams (scikit-learn) of the
message as ``danger`` reads it (typos mended, Cantonese read as Mandarin), trained on blind-written
messages (``data/safety/*.jsonl``: 459 dangers, 362 look-alikes; the second file was a test set, spent),
on the NLU's examples (``emergency`` against every other intent) and on the appeal examples as ordinary
messages. Trained once per process (about 5 s), from files in the repository; nothing is downloaded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.core.settings import PROJECT_ROOT
from bot.safety.reading import read_as_plain

EXAMPLES = PROJECT_ROOT / "data" / "safety"  # every *.jsonl file in it
NLU_DATA = PROJECT_ROOT / "data" / "nlu"
DANGER, NONE = "danger", "none"
# The model's probability of danger from which a message counts as one. Five-fold cross-validation on the
# training messages (no evaluation set): the model alone found 25% of the held-out folds' dangers at 0.8 (55% at
# 0.5) and took 0.02% of the ordinary messages for danger (0.06% at 0.5); at 0.5 short look-alikes of our own
# tests (燃气灶点不着火, 衰死了, the NLU's "不想") counted, at 0.8 none does.
THRESHOLD = 0.8
# Below this many characters the model is not asked: a word or two (the NLU's "不想") says too little for
# character n-grams, and the word lists hear the short cries (想死, 不想活). With the fourth training set
# "不想" alone reached the threshold.
MIN_CHARACTERS = 5


class SafetyModelError(RuntimeError):
    """The model could not be trained from the repository's files (a missing or broken file)."""


@dataclass(frozen=True)
class DangerModel:
    """The trained vectoriser and classifier."""

    vectorizer: TfidfVectorizer
    classifier: LogisticRegression

    def probability(self, text: str) -> float:
        """The probability that the message speaks of a danger."""
        scores = self.classifier.predict_proba(self.vectorizer.transform([as_read(text)]))[0]
        return float(scores[list(self.classifier.classes_).index(DANGER)])


def as_read(text: str) -> str:
    """The message as the model learns and hears it: without spaces, read as ``danger`` reads it."""
    return read_as_plain(re.sub(r"\s+", "", text))


def training_messages(listed: Callable[[str], bool]) -> tuple[list[str], list[str]]:
    """The messages (as read) and their labels: the safety examples, the NLU's intents, and the appeal
    examples as ordinary messages (long complaints too: without them length alone sounded like danger),
    except those the word lists take for a danger (a report of a gas leak is no ordinary message)."""
    from rasa.shared.nlu.training_data.loading import load_data  # here: Rasa's reader is slow to import

    from bot.appeals.categories import load_categories
    from bot.appeals.examples import EXAMPLES_PATH, read_examples

    try:
        files = sorted(EXAMPLES.glob("*.jsonl"))
        if not files:
            raise OSError(f"no examples in {EXAMPLES}")
        rows = [json.loads(line) for f in files for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
        nlu = load_data(str(NLU_DATA)).intent_examples
        appeals = [f"{e.title} {e.text}".strip() for e in read_examples(EXAMPLES_PATH, load_categories())]
        texts = [str(row["text"]) for row in rows] + [str(example.get("text")) for example in nlu]
        labels = [NONE if row["kind"] == NONE else DANGER for row in rows]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SafetyModelError(f"safety model: training data unreadable: {error!r}") from error
    labels += [DANGER if example.get("intent") == "emergency" else NONE for example in nlu]
    ordinary = [text for text in appeals if not listed(text)]
    return [as_read(text) for text in texts + ordinary], labels + [NONE] * len(ordinary)


def train(listed: Callable[[str], bool]) -> DangerModel:
    """The model trained on the repository's messages (``listed``: whether the word lists hear a danger)."""
    texts, labels = training_messages(listed)
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    classifier = LogisticRegression(C=10, class_weight="balanced", max_iter=2000)
    classifier.fit(vectorizer.fit_transform(texts), labels)
    return DangerModel(vectorizer, classifier)
