#!/usr/bin/env python3
"""Assemble the hand-written dialogues in src/*.yml into all.yml (set d10).

The category of a dialogue is the name of its source file. Each source entry may carry
`lookalike: true` (harmless safety look-alike); build.py counts and strips it.
Ids d10-NNNN are assigned after a fixed-seed shuffle. The script also runs sanity checks
and stops with an error list if any fails.
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
import validate  # noqa: E402  (only its constants are used)

MINIMUMS = {"safety": 30, "materials": 35, "progress": 18, "report": 40,
            "offers": 22, "flow": 40, "channels": 10}
TOTAL_MIN = 200
ORDER = ["id", "category", "register", "channel", "verified_phone", "turns", "answers", "outcome"]
CASES = {"20261120000158": "13912345678", "20261001000777": "13912345678",
         "20260901000999": "13700001111"}
STATUS = {"审查", "办结", "已发证", "督办", "逾期", "超期"}
CN_DIGITS = str.maketrans("零〇一幺二两三四五六七八九", "0011223456789")

problems = []


def bad(where, msg):
    problems.append(f"{where}: {msg}")


def digits(text):
    """Text with Chinese digits made Arabic and separators between digits removed."""
    t = text.translate(CN_DIGITS)
    return re.sub(r"(?<=\d)[\s\-]+(?=\d)", "", t)


def answer_values(d):
    out = []
    for v in (d.get("answers") or {}).values():
        out += [v] if isinstance(v, str) else list(v)
    return out


def load():
    dialogues = []
    for path in sorted(glob.glob(os.path.join(HERE, "src", "*.yml"))):
        cat = os.path.splitext(os.path.basename(path))[0]
        with open(path, encoding="utf-8") as f:
            items = yaml.safe_load(f)
        for i, d in enumerate(items):
            d = dict(d)
            d["_where"] = f"src/{cat}.yml[{i}]"
            d["category"] = cat
            dialogues.append(d)
    return dialogues


def check(d):
    w = d["_where"]
    voice = d["channel"] == "voice"
    if d["channel"] in ("voice", "sms") and "verified_phone" not in d:
        bad(w, "voice/sms dialogue without verified_phone")
    if d["channel"] == "webchat" and "verified_phone" in d:
        bad(w, "webchat knows no number")
    texts = [t["user"] for t in d["turns"]]
    citizen = " ".join(texts + answer_values(d))
    if voice:
        for t in texts + answer_values(d):
            if validate.PUNCT_RE.search(t):
                bad(w, f"punctuation in voice text: {t}")
    for t in d["turns"]:
        e = t.get("expect") or {}
        if e.get("max_questions") == 0:
            bad(w, "max_questions 0 is not allowed in this set")
        if STATUS & set(e.get("not_contains", [])) and not (
                re.search(r"\d{13,14}", digits(citizen)) or re.search("进度|编号|办成点", citizen)):
            bad(w, "status words in not_contains outside a progress situation")
    # progress: status expected only after verification, absent before it
    case = next((c for c in CASES if c in digits(" ".join(texts))), None)
    if case:
        applicant = CASES[case]
        verified = d.get("verified_phone") == applicant
        seen = ""
        for i, t in enumerate(d["turns"]):
            seen += " " + digits(t["user"])
            ok = verified or applicant[-4:] in seen.replace(case, "")
            e = t.get("expect") or {}
            if STATUS & set(e.get("contains_any", [])) and not (ok and case in seen):
                bad(w, f"turn {i + 1} expects a status before verification")
            if STATUS & set(e.get("not_contains", [])) and ok and case in seen:
                bad(w, f"turn {i + 1} forbids a status after verification")
    o = d.get("outcome") or {}
    for k in ("service_answered", "not_service_answered"):
        if k in o and o[k] not in validate.SERVICES:
            bad(w, f"unknown service {o[k]}")
    wo = o.get("work_order")
    if isinstance(wo, dict):
        for k in ("description_contains", "address_contains", "since_contains"):
            for item in wo.get(k, []):
                if item not in citizen:
                    bad(w, f"{k} item {item!r} was never said by the citizen")
        if "district" in wo and wo["district"] not in validate.DISTRICTS:
            bad(w, f"bad district {wo['district']}")
        if "district" in wo and wo["district"] not in citizen and wo["district"][:-1] not in citizen:
            # districts may be implied by a well-known place; keep a list of those we rely on
            if not any(p in citizen for p in IMPLIED_PLACES.get(wo["district"], [])):
                bad(w, f"district {wo['district']} not said nor implied")
        if "contact_last4" in wo:
            l4 = wo["contact_last4"]
            said = digits(" ".join(texts + answer_values(d)))
            if l4 not in said and not (d.get("verified_phone", "").endswith(l4)):
                bad(w, f"contact_last4 {l4} is neither said nor the channel's number")
        if d["category"] in ("report", "flow", "offers", "channels", "safety") and wo and not (
                d.get("answers")):
            bad(w, "work order expected but no answers for the form")


IMPLIED_PLACES = {"天河区": ["天河北路", "岗顶", "体育西"], "越秀区": ["越秀公园", "东风东路"]}


def main():
    dialogues = load()
    seen = collections.Counter()
    for d in dialogues:
        check(d)
        for t in d["turns"]:
            if len(t["user"]) >= 8 and not t["user"].startswith("/") and not t["user"].isdigit():
                seen[t["user"]] += 1
    for text, n in seen.items():
        if n > 1:
            bad("duplicates", f"turn used {n} times: {text}")
    cats = collections.Counter(d["category"] for d in dialogues)
    for c, need in MINIMUMS.items():
        if cats[c] < need:
            bad("counts", f"{c}: {cats[c]} < {need}")
    if len(dialogues) < TOTAL_MIN:
        bad("counts", f"total {len(dialogues)} < {TOTAL_MIN}")
    safety = [d for d in dialogues if d["category"] == "safety"]
    looks = sum(1 for d in safety if d.get("lookalike"))
    if looks * 3 < len(safety):
        bad("counts", f"look-alikes {looks} < a third of {len(safety)} safety dialogues")
    if problems:
        print(f"{len(problems)} problem(s):")
        for p in problems:
            print("  " + p)
        sys.exit(1)
    random.Random(20261010).shuffle(dialogues)
    out = []
    for n, d in enumerate(dialogues, 1):
        d["id"] = f"d10-{n:04d}"
        out.append({k: d[k] for k in ORDER if k in d})
    with open(os.path.join(HERE, "all.yml"), "w", encoding="utf-8") as f:
        yaml.safe_dump(out, f, allow_unicode=True, sort_keys=False, width=1000)
    print(f"all.yml: {len(out)} dialogues; " +
          ", ".join(f"{c} {cats[c]}" for c in MINIMUMS) + f"; safety look-alikes {looks}")


if __name__ == "__main__":
    main()
