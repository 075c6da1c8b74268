"""The part of a long question that says what the citizen wants, apart from the background around it.

"我在东莞工作了八年交了社保，今年回到广州，想问一下护照在哪里办": the story names services too (社保),
but the service asked for is in the clauses that ask (办, 申请, 怎么, 去哪, 能不能, 要什么, 多少钱…).
The ranking gives those clauses' words a second weight; the background stays in the question.
"""

from __future__ import annotations

import re

_CLAUSE_BREAK = re.compile(r"[，,。.！!？?；;：:、\s]+")
# Words of a clause that asks for something (a service, a fee, a place, a way, a permission).
_ASKING = re.compile(
    r"办|申请|申领|报名|要什么|需要|怎么|怎样|如何|点样|去哪|哪里|在哪|边度|能不能|能否|可不可以|可以吗|"
    r"要不要|使唔使|多少钱|几多钱|收费|多久|多长时间|请问|想问|问一下|想要|我想|想把|想给|想帮|查|咨询|手续|材料|流程"
)
# A question shorter than this, or of fewer clauses, is all request already.
MIN_CHARS = 30
MIN_CLAUSES = 3


def asking_part(question: str) -> str:
    """The clauses of a long question that ask for something ("" when the question is short, or every
    clause asks, or none does)."""
    clauses = [clause for clause in _CLAUSE_BREAK.split(question) if clause]
    if len(question) < MIN_CHARS or len(clauses) < MIN_CLAUSES:
        return ""
    asking = [clause for clause in clauses if _ASKING.search(clause)]
    if not asking or len(asking) == len(clauses):
        return ""
    return " ".join(asking)


# A verb asked as "A 不 A" (能不能, 会不会, 要不要, 可不可以, 有没有): the form of a yes-no question, never
# part of a service's name, but jieba cuts 税能不能 into 税/能/不能 and 不能 is a word some names use.
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1(?:以)?")


def without_yes_no_form(text: str) -> str:
    """``text`` without its "A 不 A" yes-no forms ("税能不能晚点交" → "税晚点交")."""
    return _A_NOT_A.sub("", text)
