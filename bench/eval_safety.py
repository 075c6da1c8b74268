"""The safety check (``bot.safety.danger.assess``) on a set of single messages written blind.

Each line of the set's ``phrases.jsonl`` is ``{"text", "kind", "register"}``; ``kind`` is a danger kind
or ``none``. Prints, by kind, how many dangers got a number at all (recall) and the right kind, and how
many ordinary messages got one (false alarms); ``--show`` lists the misses.

Usage: python bench/eval_safety.py [--phrases data/eval/safety_phrases_test2/phrases.jsonl] [--show]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.settings import PROJECT_ROOT
from bot.safety.danger import assess

PHRASES = PROJECT_ROOT / "data" / "eval" / "safety_phrases_test2" / "phrases.jsonl"


def main() -> int:
    """Print recall by kind and the false alarms."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phrases", type=Path, default=PHRASES)
    parser.add_argument("--show", action="store_true", help="list every miss and false alarm")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.phrases.read_text(encoding="utf-8").splitlines() if line.strip()]
    total, found, right = Counter(), Counter(), Counter()
    misses, alarms = [], []
    for row in rows:
        danger = assess(row["text"])
        total[row["kind"]] += 1
        if row["kind"] == "none":
            if danger is not None:
                alarms.append(f"{danger.kind}: {row['text']}")
            continue
        if danger is None:
            misses.append(f"{row['kind']}: {row['text']}")
            continue
        found[row["kind"]] += 1
        right[row["kind"]] += danger.kind == row["kind"]
    print(f"Safety check on {args.phrases} ({len(rows)} messages)")
    print(f"{'kind':16}{'n':>5}{'found':>8}{'rate':>8}{'same kind':>11}")
    for kind in sorted(k for k in total if k != "none"):
        print(f"{kind:16}{total[kind]:>5}{found[kind]:>8}{found[kind] / total[kind]:>8.3f}{right[kind]:>11}")
    dangers = sum(v for k, v in total.items() if k != "none")
    print(f"{'all dangers':16}{dangers:>5}{sum(found.values()):>8}{sum(found.values()) / dangers:>8.3f}")
    print(f"{'false alarms':16}{total['none']:>5}{len(alarms):>8}{len(alarms) / max(total['none'], 1):>8.3f}")
    if args.show:
        for line in misses:
            print("MISS", line)
        for line in alarms:
            print("ALARM", line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
