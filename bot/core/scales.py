"""The rating scale citizens answer on: the 回访 of a work order and the rating of a handoff."""

SATISFIED = "满意"
BASICALLY_SATISFIED = "基本满意"
UNSATISFIED = "不满意"
RATINGS = (SATISFIED, BASICALLY_SATISFIED, UNSATISFIED)
