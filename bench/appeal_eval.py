"""Evaluate the appeal classifier: trained on the train split, measured on the held-out split.

Usage:
    python bench/appeal_eval.py        # held-out split, development and fresh sets, with baselines (make eval)
    python bench/appeal_eval.py --no-fresh   # the same without the fresh set (while choices are still being made)
    python bench/appeal_eval.py --board-test   # also the board set's test half (measured once, at the end)
    python bench/appeal_eval.py --cv   # 5-fold cross-validation on the train split only, per configuration:
                                       # the numbers the model's settings were chosen by (never the held-out split)
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.appeals.categories import load_categories
from bot.appeals.classifier import AppealClassifier, Classification, ModelConfig, message_text
from bot.appeals.examples import DEV_PATH, EXAMPLES_PATH, FRESH_PATH, Example, read_examples, split_examples
from bot.appeals.keywords import KEYWORDS_PATH, Keywords, read_keywords
from bot.appeals.text import normalise
from bot.core.settings import PROJECT_ROOT

TARGET_FIRST_LEVEL_ACCURACY = 0.85
# The blind set of board posts and calls with labels of the real tree, written by a helper who never saw the
# classifier or its data (data/eval/appeals_board/README.md): dev may guide choices, test is measured once.
BOARD_PATH = PROJECT_ROOT / "data" / "eval" / "appeals_board"


def read_board_set(path: Path) -> list[Example]:
    """The messages of one half of the board set (JSON Lines with level1/level2/level3) as examples."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            row = json.loads(line)
            category = (row["level1"], row["level2"], row["level3"])
            examples.append(Example(row["title"], row["text"], row["type"], category, f"{path.name} line {number}"))
    return examples


def third_level_line(test: list[Example], results: list[Classification]) -> str:
    """How often a third level is given, and how often the whole path is right when it is."""
    given = [(e, r) for e, r in zip(test, results, strict=True) if len(r.category) == 3]
    right = sum(e.category == r.category for e, r in given)
    share = len(given) / max(len(test), 1)
    precision = right / max(len(given), 1)
    return f"third level given for {share:.2f} of the messages ({len(given)}), the whole path right in {precision:.2f}"


def accuracy(truth: list[str], predicted: list[str]) -> float:
    """Share of equal pairs."""
    return sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth) if truth else 0.0


def majority_baseline(train: list[Example], test: list[Example]) -> tuple[list[str], list[str], list[str]]:
    """The most common first level, pair and type of the train split, for every held-out message."""
    first = Counter(e.category[0] for e in train).most_common(1)[0][0]
    pair = Counter("/".join(e.category) for e in train).most_common(1)[0][0]
    kind = Counter(e.type for e in train).most_common(1)[0][0]
    return [first] * len(test), [pair] * len(test), [kind] * len(test)


def keyword_baseline(
    keywords: Keywords, train: list[Example], test: list[Example]
) -> tuple[list[str], list[str], list[str]]:
    """Keyword rules alone: most hits wins (first level, pair, type); no hit → the train split's majority."""
    majority_first, majority_pair, majority_type = (values[0] for values in majority_baseline(train, test[:1]))
    firsts, pairs, kinds = [], [], []
    for example in test:
        text = message_text(example.title, example.text, 1)
        by_first = keywords.first_level_hits(text)
        firsts.append(max(by_first, key=by_first.__getitem__) if by_first else majority_first)
        by_pair = keywords.hits(text)
        pairs.append("/".join(max(by_pair, key=by_pair.__getitem__)) if by_pair else majority_pair)
        by_type = {kind: sum(1 for cue in cues if cue in text) for kind, cues in keywords.types.items()}
        best_type = max(by_type, key=by_type.__getitem__)
        kinds.append(best_type if by_type[best_type] else majority_type)
    return firsts, pairs, kinds


def _chars(text: str, size: int = 4) -> set[str]:
    return {text[i : i + size] for i in range(len(text) - size + 1)}


def near_duplicates(train: list[Example], test: list[Example], threshold: float = 0.5) -> int:
    """Held-out messages whose character 4-grams overlap a training message's by more than ``threshold``."""
    train_grams = [_chars(e.text) for e in train]
    count = 0
    for example in test:
        grams = _chars(example.text)
        if any(len(grams & other) / max(len(grams | other), 1) > threshold for other in train_grams):
            count += 1
    return count


def print_scores(name: str, test: list[Example], firsts: list[str], pairs: list[str], kinds: list[str]) -> None:
    """One line of headline numbers."""
    truth_first = [e.category[0] for e in test]
    macro = f1_score(truth_first, firsts, average="macro", labels=sorted(set(truth_first)), zero_division=0)
    print(
        f"{name:<26} first {accuracy(truth_first, firsts):.3f}   macro-F1 {macro:.3f}   "
        f"second {accuracy(['/'.join(e.category[:2]) for e in test], pairs):.3f}   "
        f"type {accuracy([e.type for e in test], kinds):.3f}"
    )


def report(
    train: list[Example], test: list[Example], extra_sets: list[tuple[str, Path, list[Example]]], keywords: Keywords
) -> int:
    """Train on ``train``, print everything about ``test`` and the other sets; exit 0 whatever the numbers are."""
    tree = load_categories()
    started = time.perf_counter()
    model = AppealClassifier(tree, keywords).fit(train)
    trained = time.perf_counter() - started
    seen = {normalise(f"{e.title}\n{e.text}") for e in train}
    if any(normalise(f"{e.title}\n{e.text}") in seen for e in test + [e for _, _, s in extra_sets for e in s]):
        print("error: a test message is also a training message", file=sys.stderr)
        return 1
    started = time.perf_counter()
    results: list[Classification] = model.predict_many([(e.title, e.text) for e in test])
    per_message_ms = (time.perf_counter() - started) * 1000 / max(len(test), 1)

    print(f"examples {len(train) + len(test)}: train {len(train)}, held out {len(test)}")
    print(
        f"held-out messages with a near-duplicate in train (char 4-gram Jaccard > 0.5): {near_duplicates(train, test)}"
    )
    print(f"training {trained:.1f} s, classifying {per_message_ms:.1f} ms per message\n")

    firsts = [r.category[0] for r in results]
    pairs = ["/".join(r.category[:2]) for r in results]
    kinds = [r.type for r in results]
    print_scores("majority class", test, *majority_baseline(train, test))
    print_scores("keyword rules", test, *keyword_baseline(keywords, train, test))
    print_scores("classifier", test, firsts, pairs, kinds)

    truth_first = [e.category[0] for e in test]
    first_accuracy = accuracy(truth_first, firsts)
    right_first = [i for i, e in enumerate(test) if e.category[0] == firsts[i]]
    second_given_first = accuracy(
        [test[i].category[1] for i in right_first], [results[i].category[1] for i in right_first]
    )
    print(f"\nsecond level when the first level is right: {second_given_first:.3f} ({len(right_first)} messages)")
    print(third_level_line(test, results))
    verdict = "met" if first_accuracy >= TARGET_FIRST_LEVEL_ACCURACY else "NOT met"
    print(f"first-level accuracy {first_accuracy:.3f} (target ≥ {TARGET_FIRST_LEVEL_ACCURACY}: {verdict})")

    labels = sorted(set(truth_first), key=tree.first_levels().index)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth_first, firsts, labels=labels, zero_division=0
    )
    print("\nfirst level          precision  recall   F1   held out")
    for label, p, r, f, n in zip(labels, precision, recall, f1, support, strict=True):
        print(f"{label:<16}{p:>10.2f}{r:>8.2f}{f:>7.2f}{n:>8}")

    type_labels = sorted({e.type for e in test})
    precision, recall, f1, support = precision_recall_fscore_support(
        [e.type for e in test], kinds, labels=type_labels, zero_division=0
    )
    print("\ntype     precision  recall   F1   held out")
    for label, p, r, f, n in zip(type_labels, precision, recall, f1, support, strict=True):
        print(f"{label:<6}{p:>10.2f}{r:>8.2f}{f:>7.2f}{n:>8}")

    confusions = Counter((t, p) for t, p in zip(truth_first, firsts, strict=True) if t != p)
    print("\nmost common first-level confusions (truth → predicted)")
    for (truth, predicted), count in confusions.most_common(8):
        print(f"  {count:>3}  {truth} → {predicted}")
    pair_confusions = Counter(
        ("/".join(e.category[:2]), pair)
        for e, pair in zip(test, pairs, strict=True)
        if "/".join(e.category[:2]) != pair
    )
    print("most common second-level confusions")
    for (truth, predicted), count in pair_confusions.most_common(8):
        print(f"  {count:>3}  {truth} → {predicted}")

    print("\nconfidence (probability of the category pair)   messages   pair right   first level right")
    edges = [0.0, 0.3, 0.5, 0.7, 0.9, 1.01]
    for low, high in itertools.pairwise(edges):
        rows = [i for i, r in enumerate(results) if low <= r.confidence < high]
        if rows:
            pair_right = sum(pairs[i] == "/".join(test[i].category[:2]) for i in rows) / len(rows)
            first_right = sum(firsts[i] == test[i].category[0] for i in rows) / len(rows)
            print(f"  [{low:.1f}, {min(high, 1.0):.1f}){len(rows):>33}{pair_right:>13.2f}{first_right:>20.2f}")

    for name, path, examples in extra_sets:
        report_other_set(name, path, examples, model, train, keywords)
    return 0


def report_other_set(
    name: str, path: Path, examples: list[Example], model: AppealClassifier, train: list[Example], keywords: Keywords
) -> None:
    """Headline numbers, baselines and confusions of a test set kept in its own folder."""
    print(f"\n=== {name} ({len(examples)} messages in {path.relative_to(PROJECT_ROOT)}) ===")
    print(f"with a near-duplicate in train: {near_duplicates(train, examples)}")
    results = model.predict_many([(e.title, e.text) for e in examples])
    print_scores("majority class", examples, *majority_baseline(train, examples))
    print_scores("keyword rules", examples, *keyword_baseline(keywords, train, examples))
    print_scores(
        "classifier",
        examples,
        [r.category[0] for r in results],
        ["/".join(r.category[:2]) for r in results],
        [r.type for r in results],
    )
    print(third_level_line(examples, results))
    wrong = [r.confidence for e, r in zip(examples, results, strict=True) if e.category[0] != r.category[0]]
    right = [r.confidence for e, r in zip(examples, results, strict=True) if e.category[0] == r.category[0]]
    if wrong and right:
        medians = f"{np.median(right):.2f} when the first level is right, {np.median(wrong):.2f} when wrong"
        print(f"median confidence: {medians}")
    confusions = Counter((e.category[0], r.category[0]) for e, r in zip(examples, results, strict=True))
    listed = "; ".join(f"{t} → {p} ×{n}" for (t, p), n in confusions.most_common() if t != p)
    print(f"first-level confusions: {listed or 'none'}")


CANDIDATES = {
    "chosen (default)": ModelConfig(),
    "C=0.3": replace(ModelConfig(), c=0.3),
    "C=3": replace(ModelConfig(), c=3.0),
    "no keyword features": replace(ModelConfig(), keyword_weight=0.0),
    "keyword weight 0.1": replace(ModelConfig(), keyword_weight=0.1),
    "keyword weight 0.3": replace(ModelConfig(), keyword_weight=0.3),
    "title once": replace(ModelConfig(), title_weight=1),
    "no jieba words": replace(ModelConfig(), use_words=False),
    "char 1-3 grams": replace(ModelConfig(), char_ngrams=(1, 3)),
    "no pair blend": replace(ModelConfig(), pair_weight=0.0),
    "pair weight 0.5": replace(ModelConfig(), pair_weight=0.5),
    "pair weight 1.0": replace(ModelConfig(), pair_weight=1.0),
    "no Bayes blend": replace(ModelConfig(), bayes_weight=0.0),
    "Bayes weight 0.5": replace(ModelConfig(), bayes_weight=0.5),
    "Bayes weight 0.7": replace(ModelConfig(), bayes_weight=0.7),
    "no Cantonese rewrites": replace(ModelConfig(), rewrite=False),
    "settings of 2026-11-28": ModelConfig(
        char_ngrams=(1, 3), keyword_weight=0.5, pair_weight=0.0, bayes_weight=0.0, rewrite=False
    ),
}
# The fourth batch of examples (everyday words, data/appeals/README.md) is in the files named so.
EVERYDAY_BATCH_SUFFIX = "_everyday.yml"


def is_everyday(example: Example) -> bool:
    """Whether an example belongs to the fourth batch (everyday words)."""
    return example.source.split(" line ", 1)[0].endswith(EVERYDAY_BATCH_SUFFIX)


def cross_validate(train: list[Example], keywords: Keywords, folds: int = 5) -> int:
    """Accuracy of each candidate by stratified k-fold on the train split alone, and across batches of it."""
    tree = load_categories()
    labels = np.array([e.category[0] for e in train])
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=0).split(np.zeros(len(train)), labels))
    older = [e for e in train if not is_everyday(e)]
    everyday = [e for e in train if is_everyday(e)]
    print(f"{folds}-fold cross-validation on the train split ({len(train)} examples); 'across' = first level of the")
    print(f"{len(everyday)} everyday examples of the train split by a model fitted on its {len(older)} older ones")
    print(f"{'configuration':<26} first   second  type    across  seconds")
    for name, config in CANDIDATES.items():
        started = time.perf_counter()
        first_right = pair_right = type_right = 0
        for fit_rows, test_rows in splits:
            model = AppealClassifier(tree, keywords, config).fit([train[i] for i in fit_rows])
            held = [train[i] for i in test_rows]
            for example, result in zip(held, model.predict_many([(e.title, e.text) for e in held]), strict=True):
                first_right += example.category[0] == result.category[0]
                pair_right += example.category[:2] == result.category[:2]
                type_right += example.type == result.type
        across = 0.0
        if older and everyday:
            model = AppealClassifier(tree, keywords, config).fit(older)
            results = model.predict_many([(e.title, e.text) for e in everyday])
            across = accuracy([e.category[0] for e in everyday], [r.category[0] for r in results])
        n = len(train)
        seconds = time.perf_counter() - started
        scores = f"{first_right / n:.3f}   {pair_right / n:.3f}   {type_right / n:.3f}   {across:.3f}"
        print(f"{name:<26} {scores}   {seconds:.0f}", flush=True)
    slope, intercept = fit_confidence_scaling(train, keywords, splits)
    print(f"\nconfidence scaling fitted on the default's cross-validated predictions: ({slope:.2f}, {intercept:.2f})")
    print(f"(ModelConfig.confidence_scaling is {ModelConfig().confidence_scaling})")
    return 0


def fit_confidence_scaling(
    train: list[Example], keywords: Keywords, splits: list[tuple[np.ndarray, np.ndarray]]
) -> tuple[float, float]:
    """Platt scaling of the default's raw pair probability: whether the pair was right, on its logit."""
    tree = load_categories()
    unscaled = replace(ModelConfig(), confidence_scaling=(1.0, 0.0))
    logits, right = [], []
    for fit_rows, test_rows in splits:
        model = AppealClassifier(tree, keywords, unscaled).fit([train[i] for i in fit_rows])
        held = [train[i] for i in test_rows]
        for example, result in zip(held, model.predict_many([(e.title, e.text) for e in held]), strict=True):
            raw = min(max(result.confidence, 1e-6), 1 - 1e-6)
            logits.append(np.log(raw / (1 - raw)))
            right.append(example.category[:2] == result.category[:2])
    scaling = LogisticRegression(C=1e4).fit(np.array(logits).reshape(-1, 1), np.array(right))
    return float(scaling.coef_[0, 0]), float(scaling.intercept_[0])


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run the report or the cross-validation."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cv", action="store_true", help="cross-validate configurations on the train split")
    parser.add_argument(
        "--no-fresh", action="store_true", help="leave the fresh set out (it must not guide any choice)"
    )
    parser.add_argument(
        "--board-test", action="store_true", help="also the board set's test half (measure it once, at the end)"
    )
    args = parser.parse_args(argv)
    tree = load_categories()
    examples = read_examples(EXAMPLES_PATH, tree)
    keywords = read_keywords(KEYWORDS_PATH, tree)
    train, test = split_examples(examples)
    if args.cv:
        return cross_validate(train, keywords)
    extra_sets = [
        ("development set (its errors guided the last batch of examples and lexicon words)", DEV_PATH),
        ("fresh set (written last, never used for any choice)", FRESH_PATH),
    ]
    if args.no_fresh:
        extra_sets = extra_sets[:1]
    sets = [(name, path, read_examples(path, tree)) for name, path in extra_sets]
    halves = ["dev", "test"] if args.board_test else ["dev"]
    for half in halves:
        path = BOARD_PATH / f"{half}.jsonl"
        sets.append((f"board set, {half} half (blind, real tree)", path, read_board_set(path)))
    return report(train, test, sets, keywords)


if __name__ == "__main__":
    sys.exit(main())
