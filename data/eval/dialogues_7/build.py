#!/usr/bin/env python3
"""Assemble the hand-written src/<category>.yml lists into all.yml (set d7).

Each src file holds dialogues without id/category; the category is the file name.
Dialogues are shuffled with a fixed seed and numbered d7-0001... Sanity checks run
before writing; any problem aborts without writing all.yml.
"""
import glob
import os
import random
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import validate  # noqa: E402  (only for SERVICES / DISTRICTS / PUNCT_RE / constants)

ORDER = ["id", "category", "register", "channel", "verified_phone", "turns", "answers", "outcome"]
CASES = {"20261120000158": "13912345678", "20261001000777": "13912345678",
         "20260901000999": "13700001111"}
STATUS = ["审查", "办结", "已发证"]
OVERDUE = ["督办", "逾期", "超期"]
SPOKEN = str.maketrans("零〇幺一二两三四五六七八九", "0011223456789")
EMERGENCY = {"110", "119", "120", "122", "12356"}

problems = []


def prob(where, msg):
    problems.append(f"{where}: {msg}")


def texts(d):
    out = [t["user"] for t in d.get("turns", []) if isinstance(t.get("user"), str)]
    for v in (d.get("answers") or {}).values():
        out += [v] if isinstance(v, str) else [x for x in v if isinstance(x, str)]
    return out


def digits_of(s):
    s = s.translate(SPOKEN)
    return re.sub(r"\D", "", s)


def check(d, where):
    ch = d.get("channel")
    if ch in ("voice", "sms") and "verified_phone" not in d:
        prob(where, f"{ch} dialogue needs verified_phone (caller id / sender)")
    if ch == "webchat" and "verified_phone" in d:
        prob(where, "webchat knows no number")
    for t in d.get("turns", []):
        if not isinstance(t.get("user"), str):
            prob(where, f"non-string user turn {t.get('user')!r} (quote it)")
        e = t.get("expect") or {}
        for k in ("first_reply_contains_any", "contains_any", "contains_all", "not_contains"):
            for x in e.get(k, []) or []:
                if not isinstance(x, str):
                    prob(where, f"non-string in {k}: {x!r} (quote it)")
    for k, v in (d.get("answers") or {}).items():
        vals = [v] if not isinstance(v, list) else v
        for x in vals:
            if not isinstance(x, str):
                prob(where, f"answers.{k} non-string {x!r} (quote it)")
    # an emergency number we forbid must not be echoed innocently from the dialogue's own digits
    alldigits = " ".join(digits_of(s) for s in texts(d)) + " " + d.get("verified_phone", "")
    joined = "".join(texts(d)).translate(SPOKEN)
    for c in CASES:
        if c in re.sub(r"[\s\-]", "", joined):
            alldigits += " " + c
    for t in d.get("turns", []):
        for x in (t.get("expect") or {}).get("not_contains", []) or []:
            if isinstance(x, str) and x in EMERGENCY and x in alldigits:
                prob(where, f"not_contains {x} but the dialogue's own digits contain it")
    # progress: status words forbidden before verification only make sense with a case number
    o = d.get("outcome") or {}
    for k in ("service_answered", "not_service_answered"):
        if k in o and o[k] not in validate.SERVICES:
            prob(where, f"unknown service {o[k]}")
    wo = o.get("work_order")
    if isinstance(wo, dict):
        if "district" in wo and wo["district"] not in validate.DISTRICTS:
            prob(where, f"bad district {wo['district']}")
        if "contact_last4" in wo:
            l4 = wo["contact_last4"]
            ok = d.get("verified_phone", "").endswith(l4) or l4 in alldigits
            if not ok:
                prob(where, f"contact_last4 {l4} appears nowhere in the dialogue")
        if d["category"] == "report" or "answers" in d:
            pass
    if ch == "voice":
        for s in texts(d):
            if validate.PUNCT_RE.search(s):
                prob(where, f"voice punctuation: {s}")


def main():
    dialogues = []
    seen_first = {}
    for path in sorted(glob.glob(os.path.join(HERE, "src", "*.yml"))):
        cat = os.path.splitext(os.path.basename(path))[0]
        if cat not in validate.CATEGORIES:
            prob(path, f"unknown category file {cat}")
            continue
        with open(path, encoding="utf-8") as f:
            items = yaml.safe_load(f) or []
        for i, d in enumerate(items):
            where = f"{os.path.basename(path)}[{i}]"
            d = dict(d)
            d["category"] = cat
            check(d, where)
            first = d["turns"][0]["user"] if d.get("turns") else ""
            if first in seen_first and first not in ("/start",):
                prob(where, f"duplicate first turn with {seen_first[first]}")
            seen_first[first] = where
            dialogues.append(d)
    if problems:
        print(f"{len(problems)} build problem(s):")
        for p in problems:
            print("  " + p)
        sys.exit(1)
    rnd = random.Random(7)
    rnd.shuffle(dialogues)
    out = []
    for n, d in enumerate(dialogues, 1):
        d["id"] = f"d7-{n:04d}"
        out.append({k: d[k] for k in ORDER if k in d})
    with open(os.path.join(HERE, "all.yml"), "w", encoding="utf-8") as f:
        yaml.safe_dump(out, f, allow_unicode=True, sort_keys=False, width=1000)
    counts = {}
    for d in out:
        counts[d["category"]] = counts.get(d["category"], 0) + 1
    print(f"all.yml: {len(out)} dialogues", dict(sorted(counts.items())))


if __name__ == "__main__":
    main()
