"""Summarise `rasa test nlu` on the held-out set: intent accuracy, macro-F1, confusions, entity F1.

Usage: python bench/nlu_eval.py results/nlu   (make eval runs both steps)
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import yaml
from sklearn.metrics import f1_score

TARGET_MACRO_F1 = 0.95
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def training_texts(folder: Path) -> set[str]:
    """Every training example's plain text (annotations removed)."""
    texts = set()
    for path in folder.glob("*.yml"):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" in block:
                for line in block["examples"].splitlines():
                    if line.strip().startswith("- "):
                        texts.add(_ANNOTATION.sub(r"\1", line.strip()[2:]))
    return texts


def novel_subset(results: Path, seen: set[str]) -> tuple[int, float, float] | None:
    """Accuracy and macro-F1 on the test examples whose text is not also a training example."""
    rows = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = results / name
        if path.exists():
            rows += json.loads(path.read_text(encoding="utf-8"))
    novel = [r for r in rows if r["text"] not in seen]
    if not novel:
        return None
    truth = [r["intent"] for r in novel]
    predicted = [r["intent_prediction"]["name"] for r in novel]
    accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(novel)
    return len(novel), accuracy, f1_score(truth, predicted, average="macro", labels=sorted(set(truth)))


def main(results: Path) -> int:
    """Print the numbers; exit 0 whatever they are (the target is printed, not enforced)."""
    report = json.loads((results / "intent_report.json").read_text(encoding="utf-8"))
    accuracy = report["accuracy"]
    macro_f1 = report["macro avg"]["f1-score"]
    print(f"intent accuracy   {accuracy:.4f}")
    print(f"intent macro-F1   {macro_f1:.4f}   (target ≥ {TARGET_MACRO_F1})")
    print(f"test examples     {report['macro avg']['support']}")
    novel = novel_subset(results, training_texts(Path(__file__).resolve().parent.parent / "data" / "nlu"))
    if novel is not None:
        count, novel_accuracy, novel_f1 = novel
        print(f"  of which {count} are not also training texts: accuracy {novel_accuracy:.4f}, macro-F1 {novel_f1:.4f}")
    print("\nper intent (F1, support):")
    for intent, row in sorted(report.items()):
        if isinstance(row, dict) and "f1-score" in row and intent not in ("macro avg", "weighted avg", "micro avg"):
            print(f"  {intent:18s} {row['f1-score']:.3f}  {row['support']}")
    errors_path = results / "intent_errors.json"
    errors = json.loads(errors_path.read_text(encoding="utf-8")) if errors_path.exists() else []
    pairs = Counter((e["intent"], e["intent_prediction"]["name"]) for e in errors)
    print("\nconfusion pairs (true → predicted: count):")
    for (true, predicted), count in pairs.most_common(15):
        print(f"  {true} → {predicted}: {count}")
    for path in sorted(results.glob("*Extractor_report.json")):
        entities = json.loads(path.read_text(encoding="utf-8"))
        print(f"\nentities ({path.stem.replace('_report', '')}):")
        for name, row in sorted(entities.items()):
            if isinstance(row, dict) and "f1-score" in row:
                print(f"  {name:18s} F1 {row['f1-score']:.3f}  (support {row['support']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "results/nlu")))
