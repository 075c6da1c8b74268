"""The report form's slots, the values with a meaning of their own, and which kinds of report skip which questions."""

from __future__ import annotations

from bot.appeals.categories import CONSULTATION, SUGGESTION

# Kinds that need no place (a policy question) or no "since when" (a suggestion, a question).
WITHOUT_PLACE = frozenset({CONSULTATION})
WITHOUT_SINCE = frozenset({CONSULTATION, SUGGESTION})

# Slot values with a meaning of their own.
VERIFIED = "verified"  # report_contact: the number the channel verified
ANONYMOUS = "anonymous"  # report_contact: an anonymous 举报
CONFIRMED = "yes"  # report_confirmed
CANCELLED = "cancelled"  # report_confirmed: the citizen stopped; nothing is filed
UNKNOWN = "不详"  # district, address or since the citizen does not know
WHICH_FIELD = "which_field"  # report_asking: the read-back asks which field to change
OTHER_PHONE = "other_phone"  # report_asking: the citizen does not want the verified number used
# report_asking, space-separated: what said unasked is still to make precise (the spot near the
# place said), and the slot each one asks again. A length of time said unasked (两个多星期了) is kept
# as it is: a department can act on it, and asking the day it began is one question more.
PLACE_SPOT = "place_spot"
REFINES = {"report_address": PLACE_SPOT}

REPORT_SLOTS = (
    "report_kind",
    "report_details",
    "report_district",
    "report_address",
    "report_location",
    "report_since",
    "report_contact",
    "report_confirmed",
    "report_asking",
)
# The fields offered when the citizen wants to change the read-back without saying which: the
# button's words, matched back as they are, and the slot each one asks again.
FIELD_OPTIONS = {
    "事情": "report_details",
    "地点": "report_address",
    "时间": "report_since",
    "联系方式": "report_contact",
}
