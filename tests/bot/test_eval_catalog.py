"""The catalogue evaluation's conversations (bench/eval_catalog.py): played through the service form's own code."""

from __future__ import annotations

from bench.eval_catalog import Question, evaluate, homophones_line
from bot.catalog.search import CatalogIndex, SearchEntry
from bot.core.settings import PROJECT_ROOT

PROJECT_CATALOG = PROJECT_ROOT / "data" / "catalog"
HOUSING_FUND = ["住房公积金提取", "住房公积金贷款", "住房公积金转移接续"]


def question(text: str, *good: str) -> Question:
    return Question(id=text, text=text, good=frozenset(good), register="plain")


async def test_a_conversation_reaches_a_service_answered_directly_or_offered_and_picked() -> None:
    questions = [
        question("良民证", "无犯罪记录证明"),  # answered directly
        *(question("公积金", name) for name in HOUSING_FUND),  # three offered: each picked by its number
        question("公积金", "结婚登记"),  # not offered: the conversation does not reach it
        question("良民证", "结婚登记"),  # answered directly with another service
    ]
    outcomes, _, _, _ = await evaluate(PROJECT_CATALOG, questions)
    assert [o.sure for o in outcomes] == [True, False, False, False, False, True]
    assert sorted(outcomes[1].names) == sorted(HOUSING_FUND)
    assert [o.reached for o in outcomes] == ["无犯罪记录证明", *HOUSING_FUND, None, "无犯罪记录证明"]
    assert [o.reached_right for o in outcomes] == [True, True, True, True, False, False]
    assert outcomes[5].answered_wrong


def test_the_numbers_say_whether_homophones_were_heard() -> None:
    entries = [SearchEntry(id="s1", name="最低生活保障业务申请预约", department="某部门")]
    # Without pypinyin dev ranks lower (misspellings that only sound alike are not heard): say so.
    assert (
        homophones_line(CatalogIndex(entries=entries, reading=None))
        == "homophones heard: no (pypinyin is not installed)"
    )
    assert homophones_line(CatalogIndex(entries=entries, reading=lambda text: text)) == "homophones heard: yes"
