#!/usr/bin/env python3
"""Assemble all.yml for set d9 from the hand-written src/<category>.yml files.

The src files use a short notation (see the header of src/safety.yml); this script expands it
into the format checked by validate.py, runs sanity checks of its own, shuffles the dialogues
with a fixed seed and numbers them d9-0001 ... . Exits non-zero on any problem.
"""
import collections
import os
import random
import re
import sys

import yaml

BASE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(BASE, "src")
SEED = 9009
MINIMUMS = {"safety": 30, "materials": 35, "progress": 18, "report": 40, "offers": 22,
            "flow": 40, "channels": 10}
TOTAL_MIN = 200
EXPECT_ALIASES = {"first": "first_reply_contains_any", "any": "contains_any", "all": "contains_all",
                  "nc": "not_contains", "mq": "max_questions", "h": "handoff"}
WO_ALIASES = {"type": "type", "desc": "description_contains", "addr": "address_contains",
              "dist": "district", "since": "since_contains", "last4": "contact_last4"}
STATUS_WORDS = {"审查", "办结", "已发证", "督办", "逾期", "超期"}
EMERGENCY = {"110", "119", "120", "122", "12356"}
PUNCT_RE = re.compile(r"[，。！？、；：,.!?;:“”\"'（）()]")
CN_DIGITS = str.maketrans("零〇幺一二两三四五六七八九０１２３４５６７８９",
                          "0011223456789" + "0123456789")

problems = []


def bad(where, msg):
    problems.append(f"{where}: {msg}")


def as_list(v):
    if isinstance(v, list):
        return [str(x) for x in v]
    return [str(v)]


def digits_of(text):
    return re.sub(r"\D", "", text.translate(CN_DIGITS))


def expand(raw, cat, where):
    allowed = {"r", "c", "vp", "t", "a", "o", "lookalike"}
    for k in set(raw) - allowed:
        bad(where, f"unknown src key {k}")
    d = {"id": None, "category": cat, "register": raw.get("r"), "channel": raw.get("c")}
    if "vp" in raw:
        d["verified_phone"] = str(raw["vp"])
    turns = []
    for i, t in enumerate(raw.get("t") or []):
        w = f"{where} turn {i + 1}"
        if isinstance(t, dict):
            for k in set(t) - {"u", "e"}:
                bad(w, f"unknown turn key {k}")
            user, e = t.get("u"), t.get("e")
        else:
            user, e = t, None
        if isinstance(user, bool) or user is None:
            bad(w, f"user parsed as {user!r} (quote it)")
        turn = {"user": str(user)}
        if e:
            ex = {}
            for k, v in e.items():
                if k not in EXPECT_ALIASES:
                    bad(w, f"unknown expect alias {k}")
                    continue
                key = EXPECT_ALIASES[k]
                if key in ("max_questions",):
                    ex[key] = v
                elif key == "handoff":
                    ex[key] = v if v is True else str(v)
                else:
                    ex[key] = as_list(v)
            turn["expect"] = ex
        turns.append(turn)
    d["turns"] = turns
    if raw.get("a"):
        d["answers"] = {k: (as_list(v) if isinstance(v, list) else str(v)) for k, v in raw["a"].items()}
    o = raw.get("o")
    if o:
        out = {}
        for k, v in o.items():
            if k == "wo":
                wo = {}
                for kk, vv in (v or {}).items():
                    if kk not in WO_ALIASES:
                        bad(where, f"unknown work_order alias {kk}")
                        continue
                    key = WO_ALIASES[kk]
                    wo[key] = as_list(vv) if key.endswith("_contains") else str(vv)
                out["work_order"] = wo
            elif k == "none":
                out["no_work_order"] = True
            elif k == "svc":
                out["service_answered"] = str(v)
            elif k == "notsvc":
                out["not_service_answered"] = str(v)
            else:
                bad(where, f"unknown outcome alias {k}")
        d["outcome"] = out
    else:
        d.pop("outcome", None)
    return d


def sanity(d, raw, where):
    voice = d["channel"] == "voice"
    said = " ".join(t["user"] for t in d["turns"])
    ans = d.get("answers", {})
    for v in ans.values():
        said += " " + " ".join(as_list(v))
    said_nospace = said.replace(" ", "")
    if voice:
        for t in d["turns"]:
            if PUNCT_RE.search(t["user"]):
                bad(where, f"voice punctuation: {t['user']}")
        for v in ans.values():
            for x in as_list(v):
                if PUNCT_RE.search(x):
                    bad(where, f"voice answer punctuation: {x}")
    has_check = "outcome" in d
    for i, t in enumerate(d["turns"]):
        e = t.get("expect")
        if not e:
            continue
        has_check = True
        if e.get("max_questions") == 0:
            bad(where, "max_questions 0 is not used in this set")
        nc = set(e.get("not_contains", []))
        if nc & STATUS_WORDS and d["category"] not in ("progress", "flow", "offers", "channels"):
            bad(where, "status words in not_contains outside progress-type dialogues")
        for w in nc & EMERGENCY:
            if w in t["user"].replace("-", ""):
                bad(where, f"not_contains {w} although the citizen typed it")
        for k in ("first_reply_contains_any", "contains_any", "contains_all"):
            for w in e.get(k, []):
                if w in nc:
                    bad(where, f"{w} both expected and forbidden")
    if not has_check:
        bad(where, "no expectation and no outcome")
    o = d.get("outcome", {})
    wo = o.get("work_order")
    if wo is not None:
        for k in ("description_contains", "address_contains", "since_contains"):
            for w in wo.get(k, []):
                if w.replace(" ", "") not in said_nospace:
                    bad(where, f"{k} {w!r} is not in the citizen's words")
        if "district" in wo and wo["district"][:-1] not in said_nospace:
            bad(where, f"district {wo['district']} was never said")
        if "contact_last4" in wo:
            l4 = wo["contact_last4"]
            contact = " ".join(as_list(ans.get("contact", ""))) + " " + said
            ok = d.get("verified_phone", "")[-4:] == l4 or l4 in digits_of(contact)
            if not ok:
                bad(where, f"contact_last4 {l4} matches neither verified_phone nor a given number")
        if d["category"] in ("report",) and not ans:
            bad(where, "report without answers")
    if d["category"] == "safety" and raw.get("lookalike"):
        for t in d["turns"]:
            if t.get("expect", {}).get("handoff"):
                bad(where, "look-alike expects a handoff")
    if d["category"] == "progress":
        pass


def main():
    out = []
    lookalikes = 0
    texts = collections.Counter()
    for name in sorted(os.listdir(SRC)):
        if not name.endswith(".yml"):
            continue
        cat = name[:-4]
        with open(os.path.join(SRC, name), encoding="utf-8") as f:
            items = yaml.safe_load(f)
        for i, raw in enumerate(items):
            where = f"{name}[{i}]"
            d = expand(raw, cat, where)
            sanity(d, raw, where)
            if cat == "safety" and raw.get("lookalike"):
                lookalikes += 1
            for t in d["turns"]:
                if len(t["user"]) > 6 and not t["user"].startswith("/"):
                    texts[t["user"]] += 1
            out.append(d)
    for t, n in texts.items():
        if n > 1:
            bad("duplicates", f"turn used {n} times: {t}")
    cats = collections.Counter(d["category"] for d in out)
    for c, n in MINIMUMS.items():
        if cats[c] < n:
            bad("counts", f"{c}: {cats[c]} < {n}")
    if len(out) < TOTAL_MIN:
        bad("counts", f"total {len(out)} < {TOTAL_MIN}")
    if lookalikes * 3 < cats["safety"]:
        bad("counts", f"look-alikes {lookalikes} are less than a third of {cats['safety']} safety")
    rng = random.Random(SEED)
    rng.shuffle(out)
    for i, d in enumerate(out, 1):
        d["id"] = f"d9-{i:04d}"
    with open(os.path.join(BASE, "all.yml"), "w", encoding="utf-8") as f:
        yaml.safe_dump(out, f, allow_unicode=True, sort_keys=False, width=1000)
    print(f"all.yml: {len(out)} dialogues; look-alikes {lookalikes}")
    for c in MINIMUMS:
        print(f"  {c:<10}{cats[c]:>4}")
    for field in ("channel", "register"):
        print(" ", field, dict(collections.Counter(d[field] for d in out)))
    if problems:
        print(f"{len(problems)} problem(s):")
        for p in problems:
            print("  " + p)
        sys.exit(1)


if __name__ == "__main__":
    main()
