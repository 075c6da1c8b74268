#!/usr/bin/env python3
"""Assemble all.yml from the hand-written lists in src/<category>.yml.

The source files use short keys to keep the hand-written text readable:
  dialogue: r=register ch=channel vp=verified_phone t=turns a=answers o=outcome
  turn:     a plain string (no expectation) or {u: user, e: expect}
  expect:   fa=first_reply_contains_any any=contains_any all=contains_all
            no=not_contains mq=max_questions h=handoff
  outcome:  wo=work_order{type desc addr dist since c4} nowo=no_work_order
            svc=service_answered nsvc=not_service_answered
Macros inside expectation lists: $S status words, $D overdue words, $E emergency
numbers (for harmless look-alikes), $L4 words for "last four digits".
The category is the file name. Ids d8-NNNN are assigned after a seeded shuffle.
Sanity checks run at the end; any problem stops the build.
"""
import collections
import glob
import os
import random
import re
import sys

import yaml

BASE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, BASE)
import validate as V  # noqa: E402  (service list, districts, punctuation rule)

MACROS = {
    "$S": ["审查", "办结", "已发证"],
    "$D": ["督办", "逾期", "超期"],
    "$E": ["12356", "110", "119", "120"],
    "$L4": ["后四位", "后4位", "尾号", "末四位", "最后四位", "尾数", "后几位"],
}
EXP = {"fa": "first_reply_contains_any", "any": "contains_any", "all": "contains_all",
       "no": "not_contains", "mq": "max_questions", "h": "handoff"}
WO = {"type": "type", "desc": "description_contains", "addr": "address_contains",
      "dist": "district", "since": "since_contains", "c4": "contact_last4"}
# the brief's larger targets (first "stress" section); validate.py checks the smaller ones
TARGETS = {"safety": 30, "materials": 25, "progress": 20, "report": 45, "offers": 25,
           "flow": 40, "channels": 12}
CASES = {"20261120000158": "13912345678", "20261001000777": "13912345678",
         "20260901000999": "13700001111"}
problems = []


def lst(v):
    v = v if isinstance(v, list) else [v]
    out = []
    for x in v:
        x = str(x)
        out += MACROS.get(x, [x])
    return out


def expand_expect(e):
    out = {}
    for k, v in e.items():
        if k is False:  # YAML 1.1 reads the bare key `no` as false
            k = "no"
        key = EXP[k]
        if key in ("max_questions",):
            out[key] = int(v)
        elif key == "handoff":
            out[key] = v
        else:
            out[key] = lst(v)
    return out


def expand(d, cat, src):
    out = {"id": None, "category": d.get("cat", cat), "register": d["r"], "channel": d["ch"]}
    if "vp" in d:
        out["verified_phone"] = str(d["vp"])
    turns = []
    for t in d["t"]:
        if isinstance(t, dict):
            tt = {"user": str(t["u"])}
            if "e" in t:
                tt["expect"] = expand_expect(t["e"])
        else:
            tt = {"user": str(t)}
        turns.append(tt)
    out["turns"] = turns
    if "a" in d:
        out["answers"] = {k: ([str(x) for x in v] if isinstance(v, list) else str(v))
                          for k, v in d["a"].items()}
    if "o" in d:
        o, oo = d["o"], {}
        if "wo" in o:
            w = o["wo"] or {}
            ww = {}
            for k, v in w.items():
                ww[WO[k]] = lst(v) if k in ("desc", "addr", "since") else str(v)
            oo["work_order"] = ww
        if o.get("nowo"):
            oo["no_work_order"] = True
        if "svc" in o:
            oo["service_answered"] = o["svc"]
        if "nsvc" in o:
            oo["not_service_answered"] = o["nsvc"]
        out["outcome"] = oo
    for k in set(d) - {"r", "ch", "vp", "t", "a", "o", "cat", "note"}:
        problems.append(f"{src}: unknown short key {k}")
    return out


def digits(s):
    return re.sub(r"\D", "", s)


def norm(s):
    """spoken/written digits -> arabic digits only"""
    s = s.translate(str.maketrans("零洞〇幺一二两三四五六七八九", "00011223456789"))
    return digits(s)


def sanity(d, src):
    w = f"{src} {d['turns'][0]['user'][:24]}"
    users = [t["user"] for t in d["turns"]]
    ans = [x for v in d.get("answers", {}).values() for x in (v if isinstance(v, list) else [v])]
    spoken = users + ans
    # 1. phone numbers used must not contain an emergency number by accident
    for p in [d.get("verified_phone", "")] + re.findall(r"1[3-9]\d{9}", " ".join(spoken)):
        for bad in ("110", "119", "120", "122", "12356"):
            if bad in p and p not in CASES.values():
                problems.append(f"{w}: phone {p} contains {bad}")
    has_case = any(c in norm(u) for c in CASES for u in users + ["".join(users)])
    # 2. status words expected only where a case number is in play
    for t in d["turns"]:
        e = t.get("expect", {})
        for k in ("contains_any", "contains_all", "first_reply_contains_any"):
            if any(x in ("办结", "已发证", "审查") for x in e.get(k, [])) and not has_case:
                problems.append(f"{w}: status word expected without a case number")
    # 3. status words in not_contains only where a case number is in play
    for t in d["turns"]:
        for x in t.get("expect", {}).get("not_contains", []):
            if x in ("审查", "办结", "已发证") and not (d["category"] in ("progress", "offers", "channels", "safety", "flow") and has_case):
                problems.append(f"{w}: status word in not_contains outside a progress dialogue")
    # 4. emergency-number not_contains must not clash with numbers the citizen says
    for t in d["turns"]:
        for x in t.get("expect", {}).get("not_contains", []):
            if x.isdigit() and any(x in norm(u) for u in spoken):
                problems.append(f"{w}: not_contains {x} but the citizen says a number containing it")
    # 5. report dialogues: no 投诉/举报/反映 in the citizen's first message
    if d["category"] == "report" and re.search("投诉|举报|反映", users[0]):
        problems.append(f"{w}: report opens with 投诉/举报/反映")
    # 6. work-order words must come from what the citizen said
    wo = d.get("outcome", {}).get("work_order")
    if wo:
        said = " ".join(spoken)
        for k in ("description_contains", "address_contains", "since_contains"):
            for x in wo.get(k, []):
                if x not in said:
                    problems.append(f"{w}: {k} {x!r} never said by the citizen")
        if "contact_last4" in wo:
            c4 = wo["contact_last4"]
            ok = d.get("verified_phone", "").endswith(c4) or c4 in said
            ok = ok or c4 in norm(said)
            if not ok:
                problems.append(f"{w}: contact_last4 {c4} not traceable")
        if "district" in wo and wo["district"] not in V.DISTRICTS:
            problems.append(f"{w}: bad district")
    # 7. voice: no punctuation
    if d["channel"] == "voice":
        for s in spoken:
            if V.PUNCT_RE.search(s):
                problems.append(f"{w}: voice text has punctuation: {s}")
    # 8. services
    for k in ("service_answered", "not_service_answered"):
        s = d.get("outcome", {}).get(k)
        if s is not None and s not in V.SERVICES:
            problems.append(f"{w}: unknown service {s}")
    # 9. no max_questions 0 anywhere (ratings may follow filing/goodbye)
    for t in d["turns"]:
        if t.get("expect", {}).get("max_questions") == 0:
            problems.append(f"{w}: max_questions 0")


def main():
    all_d = []
    for path in sorted(glob.glob(os.path.join(BASE, "src", "*.yml"))):
        cat = os.path.splitext(os.path.basename(path))[0]
        with open(path, encoding="utf-8") as f:
            items = yaml.safe_load(f) or []
        for i, d in enumerate(items):
            src = f"{cat}#{i + 1}"
            try:
                x = expand(d, cat, src)
            except Exception as ex:  # noqa: BLE001
                problems.append(f"{src}: {ex!r}")
                continue
            sanity(x, src)
            all_d.append(x)
    # duplicates of citizen text (no word-swap variants)
    seen = collections.Counter(t["user"] for d in all_d for t in d["turns"] if len(t["user"]) > 12)
    for u, n in seen.items():
        if n > 1:
            problems.append(f"duplicate citizen turn x{n}: {u}")
    cats = collections.Counter(d["category"] for d in all_d)
    for c, n in TARGETS.items():
        if cats[c] < n:
            print(f"note: {c} {cats[c]} < brief target {n}")
    if len(all_d) < 200:
        print(f"note: total {len(all_d)} < 200")
    rng = random.Random(8)
    rng.shuffle(all_d)
    for i, d in enumerate(all_d, 1):
        d["id"] = f"d8-{i:04d}"
    with open(os.path.join(BASE, "all.yml"), "w", encoding="utf-8") as f:
        yaml.safe_dump(all_d, f, allow_unicode=True, sort_keys=False, width=1000)
    print("all.yml:", len(all_d), dict(sorted(cats.items())))
    if problems:
        print(f"{len(problems)} build problem(s):")
        for p in problems:
            print("  " + p)
        sys.exit(1)


if __name__ == "__main__":
    main()
