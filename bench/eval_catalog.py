"""Measure the catalogue search on the blind citizen questions (data/eval/catalog_questions).

The real Guangdong catalogue is imported into a temporary database, the index is built the way a
running action server builds it (``bot.catalog.runtime.Hotline``), and every question goes through
``CatalogIndex.resolve``, the call the dialogue makes. Each question is then played as a conversation
through the service form's own validation (``ValidateServiceForm.validate_service``, the code the
action server runs): a direct answer ends it; an offered list (or, for one option, a yes/no question)
is answered the way a citizen who knows what they want answers it, with the right option's number
(or 是的), and not at all when the right service is not offered.

Usage:
    python bench/eval_catalog.py                # the dev half (make eval-catalog)
    python bench/eval_catalog.py --set test     # the held-out half: run it once, at the end
    python bench/eval_catalog.py --misses       # also list the questions the search gets wrong
    python bench/eval_catalog.py --calibrate    # cross-validated choice of the confidence threshold (dev only)

Numbers: top-1 and top-3 (the right service first / among the offered candidates), answered
wrong without asking (the search was sure and its one answer is wrong; an out-of-catalogue
question answered with any service counts as wrong), and for out-of-catalogue questions the share
correctly not answered (not sure) and the share with nothing offered at all; and the share of
conversations that reach the right service (in the catalogue).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.materials import ValidateServiceForm
from bot.catalog import runtime
from bot.catalog.formats import read_catalog
from bot.catalog.runtime import Hotline
from bot.catalog.search import CatalogIndex, Resolution
from bot.catalog.store import import_records
from bot.core.db import Database
from bot.core.settings import PROJECT_ROOT, get_settings

EVAL_DATA = PROJECT_ROOT / "data" / "eval"
# All written blind; see their READMEs.
QUESTION_SETS = ("catalog_questions", "catalog_questions_2", "catalog_questions_3")
GD_CATALOG = PROJECT_ROOT.parent / "shared" / "data" / "gd_service_catalog" / "catalog_2262_slim.jsonl"
TARGET_TOP3 = 0.95
TARGET_CONFIDENT_WRONG = 0.01
TARGET_CONVERSATIONS = 0.90


@dataclass(frozen=True)
class Question:
    """One labelled question; ``good`` is empty for an out-of-catalogue question."""

    id: str
    text: str
    good: frozenset[str]
    register: str


@dataclass(frozen=True)
class Outcome:
    """What the search did with one question."""

    question: Question
    names: list[str]
    sure: bool
    confidence: float
    # Not sure, but answered as the likely one with the others named (``Resolution.likely``).
    likely: bool = False
    # The service the conversation settled on (None: none, or the right one was not offered).
    reached: str | None = None

    @property
    def top1(self) -> bool:
        """The first candidate is right."""
        return bool(self.names) and self.names[0] in self.question.good

    @property
    def top3(self) -> bool:
        """A right service is among the (at most three) candidates."""
        return any(name in self.question.good for name in self.names[:3])

    @property
    def reached_right(self) -> bool:
        """The conversation settled on a right service."""
        return self.reached is not None and self.reached in self.question.good

    @property
    def answered_wrong(self) -> bool:
        """Answered directly, without asking, with a wrong service (any service, when there is none)."""
        return self.sure and not self.top1


def read_questions(split: str, questions: str = QUESTION_SETS[0]) -> list[Question]:
    """The questions of ``dev`` or ``test`` of one of the blind question sets."""
    path = EVAL_DATA / questions / f"{split}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [
        Question(
            id=row["id"],
            text=row["question"],
            good=frozenset(([row["service"]] if row["service"] else []) + row["acceptable"]),
            register=row["register"],
        )
        for row in rows
        if row["question"].strip()
    ]


async def evaluate(catalog: Path, questions: list[Question]) -> tuple[list[Outcome], CatalogIndex, float, float]:
    """Import ``catalog`` into a temporary database, build the index as a running server does, and put
    every question to it through ``resolve`` and as a conversation (``converse``).

    Returns the outcomes, the index, the seconds the build took and the milliseconds per ``resolve``.
    """
    with tempfile.TemporaryDirectory() as folder:
        settings = dataclasses.replace(get_settings(), database_url=f"sqlite:///{folder}/eval.db")
        database = Database(settings.database_url)
        hotline = Hotline(settings, database)
        runtime.use(hotline)
        try:
            started = time.perf_counter()
            await database.create_schema()
            await import_records(database, read_catalog(catalog))
            index = await hotline.catalog_index()
            built = time.perf_counter() - started
            started = time.perf_counter()
            outcomes = run(index, questions)
            per_question_ms = (time.perf_counter() - started) * 1000 / max(len(questions), 1)
            outcomes = [dataclasses.replace(o, reached=await converse(index, o.question)) for o in outcomes]
            return outcomes, index, built, per_question_ms
        finally:
            runtime.use(None)
            await database.close()


def _form_tracker(text: str, slots: dict[str, object]) -> Tracker:
    """The service form's tracker when the citizen has just said ``text``."""
    return Tracker(
        sender_id="eval-catalog",
        slots={"requested_slot": "service", **slots},
        latest_message={"text": text, "intent": {"name": "ask_materials", "confidence": 1.0}, "entities": []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": "service_form"},
        latest_action_name="service_form",
    )


async def converse(index: CatalogIndex, question: Question) -> str | None:
    """Play ``question`` through the service form: the name of the service it settles on, if any.

    The first turn is the question (the form takes the whole message as the service). When the form
    offers choices, the citizen answers with the right option's number ("2"), or "是的" when one
    service is offered; when the right service is not offered, the conversation has not reached it.
    """
    form = ValidateServiceForm()
    slots: dict[str, object] = {}
    said = question.text
    for _ in range(2):
        dispatcher = CollectingDispatcher()
        result = await form.validate_service(said, dispatcher, _form_tracker(said, slots), {})
        if result.get("service_id"):
            entry = index.get(str(result["service_id"]))
            # Answered as the likely one, with the others named: the citizen says the right one's name.
            named = " ".join(str(m.get("text") or "") for m in dispatcher.messages)
            right = next((name for name in question.good if f"“{name}”" in named), None)
            if entry is not None and entry.name not in question.good and right is not None:
                slots, said = {}, right
                continue
            return entry.name if entry else None
        offered = [entry for entry in (index.get(str(i)) for i in result.get("offered_services") or []) if entry]
        right = next((n for n, entry in enumerate(offered) if entry.name in question.good), None)
        if right is None:
            return None
        slots = {"offered_services": result["offered_services"]}
        said = "是的" if len(offered) == 1 else str(right + 1)
    return None


def run(index: CatalogIndex, questions: list[Question]) -> list[Outcome]:
    """Every question through ``resolve``, as the dialogue asks it."""
    outcomes = []
    for question in questions:
        resolution: Resolution = index.resolve(question.text)
        outcomes.append(
            Outcome(
                question=question,
                names=[m.entry.name for m in resolution.matches],
                sure=resolution.sure,
                confidence=resolution.confidence,
                likely=resolution.likely,
            )
        )
    return outcomes


def report(outcomes: list[Outcome], label: str) -> None:
    """Print the numbers of one run."""
    inside = [o for o in outcomes if o.question.good]
    outside = [o for o in outcomes if not o.question.good]
    share = lambda part, whole: len(part) / len(whole) if whole else 0.0  # noqa: E731
    print(f"=== {label}: {len(outcomes)} questions ({len(inside)} in the catalogue, {len(outside)} outside) ===")
    print(f"top-1 (in catalogue)                 {share([o for o in inside if o.top1], inside):.3f}")
    top3 = share([o for o in inside if o.top3], inside)
    print(f"top-3 (in catalogue)                 {top3:.3f}   goal ≥ {TARGET_TOP3}")
    wrong = [o for o in outcomes if o.answered_wrong]
    print(
        f"answered wrong without asking (all)  {share(wrong, outcomes):.3f}   ({len(wrong)}/{len(outcomes)}; "
        f"goal < {TARGET_CONFIDENT_WRONG})"
    )
    sure = [o for o in inside if o.sure]
    print(
        f"answered directly (in catalogue)     {share(sure, inside):.3f}   "
        f"right when answered {share([o for o in sure if o.top1], sure):.3f}"
    )
    likely = [o for o in outcomes if o.likely]
    named = [o for o in likely if o.top3 and not o.top1]
    print(
        f"answered as the likely one (all)     {share(likely, outcomes):.3f}   "
        f"right {share([o for o in likely if o.top1], likely):.3f}, "
        f"wrong with the right one named {share(named, likely):.3f}"
    )
    reached = share([o for o in inside if o.reached_right], inside)
    print(f"conversation reaches the service     {reached:.3f}   goal ≥ {TARGET_CONVERSATIONS} (offered and picked)")
    print(f"out of catalogue: not answered       {share([o for o in outside if not o.sure], outside):.3f}")
    print(f"out of catalogue: nothing offered    {share([o for o in outside if not o.names], outside):.3f}")
    by_register: dict[str, list[Outcome]] = {}
    for outcome in inside:
        by_register.setdefault(outcome.question.register, []).append(outcome)
    print(
        "top-3 by register: "
        + ", ".join(
            f"{r} {share([o for o in rows if o.top3], rows):.2f} ({len(rows)})"
            for r, rows in sorted(by_register.items())
        )
    )


def homophones_line(index: CatalogIndex) -> str:
    """Whether the index hears misspellings that only sound alike (it needs pypinyin)."""
    return "homophones heard: yes" if index.reading is not None else "homophones heard: no (pypinyin is not installed)"


def print_misses(outcomes: list[Outcome]) -> None:
    """The questions outside the top 3, and every wrong direct answer."""
    for outcome in outcomes:
        if outcome.answered_wrong or (outcome.question.good and not outcome.top3):
            mark = "WRONG-SURE" if outcome.answered_wrong else "miss"
            want = sorted(outcome.question.good)[:1] or ["(none)"]
            print(f"{mark:10} {outcome.question.id} {outcome.question.text}\n           want {want[0]}")
            for name in outcome.names[:3]:
                print(f"           got  {name}")


def calibrate(index: CatalogIndex, questions: list[Question], folds: int = 5) -> None:
    """Fit the confidence on dev by cross-validation and print the constants for bot/catalog/search.py.

    A logistic regression of "the first candidate is right" on the margins of the ranking
    (``CatalogIndex.confidence_features``). In each fold the model and the threshold for a direct
    answer are chosen on the other folds (the threshold: the lowest whose direct answers are wrong
    for at most ``TARGET_CONFIDENT_WRONG / 2`` of those questions) and measured on the held-out fold.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rows = [(index.explain(q.text), q) for q in questions]
    names = list(next(f[0] for f, _ in rows if f[0]).keys()) if rows else []
    x = np.array([[f[0].get(n, 0.0) for n in names] if f[0] else [0.0] * len(names) for f, _ in rows])
    y = np.array([bool(f[1]) and f[1] in q.good for f, q in rows])
    found = np.array([bool(f[0]) for f, _ in rows])

    def fit(rows_x: np.ndarray, rows_y: np.ndarray) -> LogisticRegression:
        return LogisticRegression(C=1.0, max_iter=1000).fit(rows_x, rows_y)

    def threshold_for(p: np.ndarray, truth: np.ndarray) -> float:
        for t in [*sorted(set(np.round(p, 3).tolist())), 1.01]:
            if ((p >= t) & ~truth).sum() <= TARGET_CONFIDENT_WRONG / 2 * len(p):
                return float(t)
        return 1.01

    order = np.arange(len(rows))
    held_sure = held_wrong = 0
    for fold in range(folds):
        train, held = order % folds != fold, order % folds == fold
        model = fit(x[train & found], y[train & found])
        p_train = np.where(found[train], model.predict_proba(x[train])[:, 1], 0.0)
        t = threshold_for(p_train, y[train])
        p_held = np.where(found[held], model.predict_proba(x[held])[:, 1], 0.0)
        sure = p_held >= t
        held_sure += int(sure.sum())
        held_wrong += int((sure & ~y[held]).sum())
        print(
            f"fold {fold}: threshold {t:.3f}; held-out answered {int(sure.sum())}/{int(held.sum())}, "
            f"wrong {int((sure & ~y[held]).sum())}"
        )
    print(
        f"cross-validated on dev: answered directly {held_sure}/{len(rows)}, wrong {held_wrong} "
        f"({held_wrong / len(rows):.3f} of all questions)"
    )
    model = fit(x[found], y[found])
    p_all = np.where(found, model.predict_proba(x)[:, 1], 0.0)
    print(f"fitted on all of dev: CONFIDENCE_BIAS = {model.intercept_[0]:.3f}")
    print(
        "CONFIDENCE_WEIGHTS = {"
        + ", ".join(f'"{n}": {w:.3f}' for n, w in zip(names, model.coef_[0], strict=False))
        + "}"
    )
    print(f"threshold (SURE_CONFIDENCE) = {threshold_for(p_all, y):.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=("dev", "test"), default="dev")
    parser.add_argument("--questions", choices=QUESTION_SETS, default=QUESTION_SETS[0], help="which blind set")
    parser.add_argument("--catalog", type=Path, default=GD_CATALOG)
    parser.add_argument("--misses", action="store_true", help="list the questions the search gets wrong")
    parser.add_argument("--calibrate", action="store_true", help="cross-validated confidence threshold (dev only)")
    args = parser.parse_args()
    if not args.catalog.exists():
        print(f"{args.catalog} is absent: the real catalogue lives in ../shared/data", file=sys.stderr)
        return 2
    if args.calibrate and args.set != "dev":
        print("calibrate on dev only: the test half is held out", file=sys.stderr)
        return 2
    questions = read_questions(args.set, args.questions)
    outcomes, index, built, per_question_ms = asyncio.run(evaluate(args.catalog, questions))
    if args.calibrate:
        calibrate(index, questions)
        return 0
    report(outcomes, f"{args.questions}, {args.set} half, {len(index.entries)} services")
    print(f"index built in {built:.1f} s (import included); {per_question_ms:.1f} ms per question")
    print(homophones_line(index))
    if args.misses:
        print_misses(outcomes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
