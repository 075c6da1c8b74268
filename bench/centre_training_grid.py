"""Cross-validate ``appeals train`` under several training settings on one centre-history file.

    .venv/bin/python bench/centre_training_grid.py data/eval/centre_history_blind_2/centre_history.csv \
        history_share=0.25 history_share=0.5 builtin_weight=0.3

Each argument after the file is one setting of ``TrainingConfig`` changed from the default (several joined by
commas: ``history_share=0.5,builtin_weight=0.3``); the default is always measured first. Use a development
stand-in (data/eval/centre_history_blind_2), never the file the settings are then measured on.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.appeals.categories import known_path, load_categories
from bot.appeals.classifier import trained_classifier
from bot.appeals.examples import EXAMPLES_PATH, read_examples
from bot.appeals.history import read_history
from bot.appeals.keywords import KEYWORDS_PATH, read_keywords
from bot.appeals.training import TrainingConfig, cross_validate, example_samples


def config_of(spec: str) -> TrainingConfig:
    """``name=value[,name=value]`` as a TrainingConfig, each value of its field's type."""
    default = TrainingConfig()
    changes: dict[str, object] = {}
    for part in filter(None, spec.split(",")):
        name, value = part.split("=", 1)
        current = getattr(default, name)
        changes[name] = value == "True" if isinstance(current, bool) else type(current)(value)
    return dataclasses.replace(default, **changes)


def main() -> int:
    """Print first- and second-level CV accuracy for the default and each setting given."""
    path, specs = Path(sys.argv[1]), ["", *sys.argv[2:]]
    records = read_history(path).records
    tree = load_categories()
    ours = example_samples(read_examples(EXAMPLES_PATH, tree), known_path)
    keywords = read_keywords(KEYWORDS_PATH, tree)
    builtin = trained_classifier()
    print(f"{path}: {len(records)} messages")
    for spec in specs:
        cv = cross_validate(records, ours, keywords, config_of(spec), None, builtin)
        assert cv is not None
        print(
            f"{spec or 'default':40} first {cv.first:.3f} (svm {cv.first_plain_svm:.3f})"
            f"  second {cv.pair} (svm {cv.pair_plain_svm})  {cv.seconds:.0f} s",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
