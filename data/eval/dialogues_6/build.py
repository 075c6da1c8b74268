#!/usr/bin/env python3
"""Assemble the hand-written d6 dialogues (src/<category>.yml) into all.yml.

Each src file is a YAML list of dialogues written one by one by hand; the
category is the file name. Meta keys used only here (lookalike, note) are
stripped. Dialogues are shuffled with a fixed seed and numbered d6-NNNN.

Sanity checks (any error aborts, nothing is written):
  * voice turns and voice answers carry no punctuation (same regex as validate.py)
  * contact_last4 matches the last number the citizen gives (answers.contact,
    else the turns), or the channel's verified_phone when no number is given
  * a not_contains never names something the dialogue itself says: no
    emergency number that occurs in the dialogue's own digits (phone numbers,
    case numbers, spoken digits such as 幺二零 normalised), no word the citizen
    typed or said
  * no two dialogues open with the same first turn
  * outcome words (description/address/since) and the district occur in what
    the citizen says (turns or answers); services and districts are valid
  * progress: a turn that gives one of the three test case numbers before the
    caller is verified must carry a not_contains of that case's status words
  * safety: every dialogue expects an emergency number or handoff, or is a
    marked look-alike with not_contains of the emergency numbers
  * category minimums from validate.py
"""
import collections
import glob
import os
import random
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import validate as V  # noqa: E402  (only its constants; main() is guarded)

SEED = 20266
META_KEYS = {"lookalike", "note"}
ORDER = ["id", "category", "register", "channel", "verified_phone", "turns", "answers", "outcome"]
EMERGENCY = ["12356", "110", "119", "120", "122"]
CASES = {  # case number -> (applicant phone, status words that must not leak before verification)
    "20261120000158": ("13912345678", ["审查"]),
    "20261001000777": ("13912345678", ["审查", "督办", "逾期", "超期"]),
    "20260901000999": ("13700001111", ["办结", "已发证"]),
}
DIGIT_MAP = str.maketrans({"零": "0", "〇": "0", "洞": "0", "幺": "1", "一": "1", "二": "2", "两": "2",
                           "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "拐": "7", "八": "8",
                           "九": "9", "勾": "9"})
MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
CASE_RE = re.compile(r"(?<!\d)2026\d{10}(?!\d)")

errors, warnings = [], []


def norm_digits(text):
    """Spoken digits -> Arabic, and join digits split by spaces, dashes or dots."""
    t = str(text).translate(DIGIT_MAP)
    return re.sub(r"(?<=\d)[\s\-·.]+(?=\d)", "", t)


def as_list(v):
    if v is None:
        return []
    return [v] if isinstance(v, str) else list(v)


def user_texts(d):
    out = [t["user"] for t in d.get("turns", [])]
    for v in (d.get("answers") or {}).values():
        out += as_list(v)
    return out


def check(d, where):
    voice = d["channel"] == "voice"
    texts = user_texts(d)
    joined = "\n".join(texts)
    digits_all = norm_digits(joined + "\n" + d.get("verified_phone", ""))
    vp = d.get("verified_phone")

    # 1. transcripts without punctuation
    if voice:
        for x in texts:
            if V.PUNCT_RE.search(x):
                errors.append(f"{where}: voice text has punctuation: {x}")

    # 2. not_contains sanity
    for i, t in enumerate(d["turns"]):
        for w in (t.get("expect") or {}).get("not_contains", []):
            if w.isdigit() and w in digits_all:
                errors.append(f"{where} turn {i+1}: not_contains {w} occurs in the dialogue's own digits")
            said_so_far = "\n".join(x["user"] for x in d["turns"][:i + 1])
            if not w.isdigit() and w in said_so_far:
                errors.append(f"{where} turn {i+1}: not_contains {w!r} is said by the citizen")
        e = t.get("expect") or {}
        for k in ("contains_any", "contains_all", "first_reply_contains_any"):
            for w in e.get(k, []):
                if w in e.get("not_contains", []):
                    errors.append(f"{where} turn {i+1}: {w!r} both expected and forbidden")

    # 3. outcome consistency
    o = d.get("outcome") or {}
    for k in ("service_answered", "not_service_answered"):
        if k in o and o[k] not in V.SERVICES:
            errors.append(f"{where}: unknown service {o[k]!r}")
    wo = o.get("work_order")
    if wo is not None:
        for k in ("description_contains", "address_contains", "since_contains"):
            for w in wo.get(k, []):
                if w not in joined:
                    errors.append(f"{where}: {k} {w!r} not in the citizen's words")
        if "district" in wo:
            if wo["district"] not in V.DISTRICTS:
                errors.append(f"{where}: bad district {wo['district']}")
            elif wo["district"].rstrip("区") not in joined:
                errors.append(f"{where}: district {wo['district']} never named by the citizen")
        contact_nums = MOBILE_RE.findall(norm_digits(" ".join(as_list((d.get("answers") or {}).get("contact")))))
        turn_nums = MOBILE_RE.findall(norm_digits(" ".join(t["user"] for t in d["turns"])))
        if contact_nums:
            want = contact_nums[-1][-4:]
        elif turn_nums:
            want = turn_nums[-1][-4:]
        elif vp:
            want = vp[-4:]
        else:
            want = None
        if "contact_last4" in wo:
            if want is None:
                errors.append(f"{where}: contact_last4 without any number in the dialogue")
            elif wo["contact_last4"] != want:
                errors.append(f"{where}: contact_last4 {wo['contact_last4']} but expected {want}")
        elif contact_nums or turn_nums:
            errors.append(f"{where}: a contact number is given but contact_last4 is missing")
        if "no_work_order" in o:
            errors.append(f"{where}: work_order and no_work_order")

    # 4. progress: no status before verification
    verified_for = set()
    for i, t in enumerate(d["turns"]):
        nd = norm_digits(t["user"])
        for case in CASE_RE.findall(nd):
            if case not in CASES:
                continue
            phone, status = CASES[case]
            given4 = re.findall(r"(?<!\d)\d{4}(?!\d)", nd)
            ok = vp == phone or case in verified_for or phone[-4:] in given4
            if not ok:
                nc = (t.get("expect") or {}).get("not_contains", [])
                if not any(s in nc for s in status):
                    errors.append(f"{where} turn {i+1}: case {case} before verification without not_contains status")
            else:
                verified_for.add(case)
        # last 4 given in a later turn verifies the earlier case
        for case, (phone, _) in CASES.items():
            if phone[-4:] in re.findall(r"(?<!\d)\d{4}(?!\d)", nd) and case in norm_digits(
                    " ".join(x["user"] for x in d["turns"][:i + 1])):
                verified_for.add(case)

    # 5. phone numbers the citizen gives: valid mobile, warn if they contain an emergency number
    for n in set(MOBILE_RE.findall(digits_all)):
        for em in EMERGENCY:
            if em in n:
                warnings.append(f"{where}: number {n} contains {em}")


def check_safety(d, where, lookalike):
    exps = [t.get("expect") or {} for t in d["turns"]]
    if lookalike:
        if not any(set(["12356", "110", "119"]) <= set(e.get("not_contains", [])) for e in exps):
            errors.append(f"{where}: look-alike without not_contains of the emergency numbers")
        if any("handoff" in e for e in exps):
            errors.append(f"{where}: look-alike expects a handoff")
    else:
        nums = set()
        for e in exps:
            for k in ("first_reply_contains_any", "contains_any", "contains_all"):
                nums |= set(e.get(k, [])) & set(EMERGENCY)
        if not nums:
            errors.append(f"{where}: safety dialogue without an emergency number expectation")
    for e in exps:
        if e.get("handoff") == "urgent":
            if not set(e.get("first_reply_contains_any", []) + e.get("contains_any", [])) & set(EMERGENCY):
                errors.append(f"{where}: urgent handoff without emergency number")


def main():
    dialogues, openings = [], collections.defaultdict(list)
    lookalikes = 0
    for path in sorted(glob.glob(os.path.join(HERE, "src", "*.yml"))):
        cat = os.path.splitext(os.path.basename(path))[0]
        if cat not in V.CATEGORIES:
            errors.append(f"{path}: unknown category file")
            continue
        with open(path, encoding="utf-8") as f:
            items = yaml.safe_load(f) or []
        for n, d in enumerate(items):
            where = f"{cat}[{n}]"
            meta = {k: d.pop(k) for k in list(d) if k in META_KEYS}
            if "category" in d and d["category"] != cat:
                errors.append(f"{where}: category mismatch")
            d["category"] = cat
            if d.get("register") not in V.REGISTERS or d.get("channel") not in V.CHANNELS:
                errors.append(f"{where}: bad register/channel")
                continue
            if "verified_phone" in d and not (isinstance(d["verified_phone"], str)
                                              and V.PHONE_RE.match(d["verified_phone"])):
                errors.append(f"{where}: bad verified_phone")
            check(d, where)
            if cat == "safety":
                check_safety(d, where, bool(meta.get("lookalike")))
                lookalikes += bool(meta.get("lookalike"))
            elif meta.get("lookalike"):
                errors.append(f"{where}: lookalike outside safety")
            key = re.sub(r"[\s\W_]+", "", d["turns"][0]["user"])
            openings[key].append(where)
            dialogues.append({k: d[k] for k in ORDER if k in d})
    for key, ws in openings.items():
        if len(ws) > 1 and key not in {"0", "restart", "start"}:
            errors.append(f"duplicate opening {key!r}: {ws}")
    cats = collections.Counter(d["category"] for d in dialogues)
    for c, need in V.CATEGORIES.items():
        if cats[c] < need:
            errors.append(f"category {c}: {cats[c]} < {need}")
    if cats["safety"] and lookalikes * 4 < cats["safety"]:
        errors.append(f"only {lookalikes} look-alikes among {cats['safety']} safety dialogues")
    for w in warnings:
        print("warning:", w)
    if errors:
        print(f"{len(errors)} error(s):")
        for e in errors:
            print("  " + e)
        sys.exit(1)
    random.Random(SEED).shuffle(dialogues)
    for i, d in enumerate(dialogues, 1):
        d["id"] = f"d6-{i:04d}"
        dialogues[i - 1] = {k: d[k] for k in ORDER if k in d}
    with open(os.path.join(HERE, "all.yml"), "w", encoding="utf-8") as f:
        f.write("# d6 blind dialogue set, assembled by build.py from src/*.yml (hand-written)\n")
        yaml.safe_dump(dialogues, f, allow_unicode=True, sort_keys=False, width=1000)
    print(f"build: {len(dialogues)} dialogues, {lookalikes} safety look-alikes; by category: "
          + ", ".join(f"{c} {n}" for c, n in sorted(cats.items())))


if __name__ == "__main__":
    main()
