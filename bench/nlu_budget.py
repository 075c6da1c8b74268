"""What the training budget costs in accuracy: NLU variants trained and tested in one run.

Trains the NLU pipeline of config.yml with a few DIET settings (epochs, transformer layers,
character n-grams, regex features) and prints training seconds, intent accuracy and macro-F1 on
the development set data/nlu_test/set_a.yml. Set B (set_b.yml) is not used for choices.

Usage: python bench/nlu_budget.py [--test data/nlu_test/set_a.yml]   (about 25 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
VARIANTS: dict[str, dict[str, Any]] = {
    "chosen: 50 epochs, no transformer": {},
    "20 epochs, no transformer": {"epochs": 20},
    "100 epochs, no transformer": {"epochs": 100},
    "50 epochs, 2 transformer layers (DIET default)": {"number_of_transformer_layers": 2},
}
# Pipeline components left out, by variant: character n-grams, catalogue/regex features.
WITHOUT = {
    "50 epochs, no transformer, without character n-grams": lambda c: c.get("analyzer") == "char",
    "50 epochs, no transformer, without RegexFeaturizer": lambda c: c["name"] == "RegexFeaturizer",
}


def variant_config(
    base: dict[str, Any], diet: dict[str, Any], leave_out: Callable[[dict[str, Any]], bool] | None = None
) -> dict[str, Any]:
    """config.yml with DIET's settings overridden, and components left out."""
    config = json.loads(json.dumps(base))
    pipeline = []
    for component in config["pipeline"]:
        if component["name"] == "DIETClassifier":
            component = {**component, **diet}
        if leave_out is not None and leave_out(component):
            continue
        pipeline.append(component)
    config["pipeline"] = pipeline
    config["policies"] = []
    return config


def run(config: dict[str, Any], workdir: Path, name: str, test: str) -> tuple[float, float, float]:
    """Train NLU with ``config``; return (seconds, accuracy, macro-F1) on the test set."""
    rasa = str(Path(sys.executable).parent / "rasa")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    config_path = workdir / f"{name}.yml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    started = time.perf_counter()
    subprocess.run(
        [
            rasa,
            "train",
            "nlu",
            "--config",
            str(config_path),
            "--nlu",
            "data/nlu",
            "--out",
            str(workdir / name),
            "--fixed-model-name",
            name,
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    out = workdir / f"{name}-results"
    subprocess.run(
        [
            rasa,
            "test",
            "nlu",
            "--nlu",
            "data/nlu_test",
            "--model",
            str(workdir / name / f"{name}.tar.gz"),
            "--out",
            str(out),
            "--quiet",
            "--no-plot",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    return seconds, report["accuracy"], report["macro avg"]["f1-score"]


def main() -> int:
    """Train and test each variant; print one line each."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--test", default="data/nlu_test/set_a.yml")
    test = parser.parse_args().test
    base = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for index, (label, diet) in enumerate(VARIANTS.items()):
            rows.append((label, *run(variant_config(base, diet), workdir, f"v{index}", test)))
        for index, (label, leave_out) in enumerate(WITHOUT.items()):
            rows.append((label, *run(variant_config(base, {}, leave_out), workdir, f"w{index}", test)))
    print(f"\n{'variant':52s} {'train s':>8s} {'accuracy':>9s} {'macro-F1':>9s}")
    for label, seconds, accuracy, macro_f1 in rows:
        print(f"{label:52s} {seconds:8.0f} {accuracy:9.4f} {macro_f1:9.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
