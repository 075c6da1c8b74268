#!/usr/bin/env python3
"""Validate the blind 12345 dialogue evaluation set (dev.yml + test.yml).

Usage: python3 validate.py [dir]   (default: the directory of this script)
Exits non-zero on any problem; prints counts by category, channel, register.
"""
import collections
import os
import re
import sys

import yaml

SERVICES = set("""结婚登记 离婚登记 补领婚姻登记证 最低生活保障申请 高龄老人津贴申领 收养登记 残疾人证办理
残疾人两项补贴申领 义务教育阶段入学报名 中小学转学 教师资格认定 出生医学证明签发 生育登记 预防接种证办理
从业人员预防性健康检查 公共租赁住房申请 房屋租赁登记备案 住房租赁补贴申请 住房公积金提取 住房公积金贷款
住房公积金转移接续 住房公积金缴存证明 社会保障卡申领 失业保险金申领 基本养老保险关系转移 职工基本养老金申领（退休）
社会保险参保缴费证明打印 灵活就业人员参保登记 工伤认定申请 人才引进入户 失业登记 劳动人事争议仲裁申请
个体工商户设立登记 企业设立登记 食品经营许可 企业注销登记 城乡居民医疗保险参保登记 异地就医备案 医疗费用零星报销
门诊特定病种待遇认定 生育津贴申领 医疗保险关系转移接续 普通护照签发 往来港澳通行证签发 往来港澳通行证签注
往来台湾通行证签发 外国人工作类居留许可 居民身份证申领 临时居民身份证申领 出生登记 户口迁移 广东省居住证申领
无犯罪记录证明 姓名变更登记 不动产转移登记 不动产登记资料查询 不动产抵押登记 个人所得税综合所得年度汇算 发票领用
开具税收完税证明 新办纳税人涉税事项办理 机动车驾驶证换证补证 机动车注册登记 机动车转移登记 交通违法处理
机动车检验合格标志核发 中小客车指标申请""".split())
DISTRICTS = {"天河区", "越秀区", "海珠区", "白云区", "番禺区", "荔湾区", "黄埔区", "花都区",
             "南沙区", "从化区", "增城区"}
CATEGORIES = {"safety": 24, "materials": 22, "progress": 16, "report": 40,
              "offers": 22, "flow": 30, "channels": 10}
REGISTERS = {"plain", "phone", "cantonese", "elderly", "typo", "rambling",
             "change_of_mind", "aside", "correction"}
CHANNELS = {"webchat", "sms", "telegram", "voice"}
TOP_KEYS = {"id", "category", "register", "channel", "verified_phone", "turns", "answers", "outcome"}
REQUIRED = {"id", "category", "register", "channel", "turns"}
EXPECT_LIST_KEYS = {"first_reply_contains_any", "contains_any", "contains_all", "not_contains"}
EXPECT_KEYS = EXPECT_LIST_KEYS | {"max_questions", "handoff"}
ANSWER_KEYS = {"description", "place", "since", "contact", "confirm"}
OUTCOME_KEYS = {"work_order", "no_work_order", "service_answered", "not_service_answered"}
WO_KEYS = {"type", "description_contains", "address_contains", "district", "since_contains",
           "contact_last4"}
WO_TYPES = {"投诉", "举报", "求助", "建议"}
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
# speech-recognition transcripts carry no punctuation
PUNCT_RE = re.compile(r"[，。！？、；：,.!?;:“”\"'（）()]")

errors = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def str_list(v):
    return isinstance(v, list) and v and all(isinstance(x, str) and x for x in v)


def check(d, where):
    if not isinstance(d, dict):
        return err(where, "dialogue is not a mapping")
    for k in set(d) - TOP_KEYS:
        err(where, f"unknown key {k!r}")
    for k in REQUIRED - set(d):
        err(where, f"missing key {k!r}")
    if d.get("category") not in CATEGORIES:
        err(where, f"bad category {d.get('category')!r}")
    if d.get("register") not in REGISTERS:
        err(where, f"bad register {d.get('register')!r}")
    if d.get("channel") not in CHANNELS:
        err(where, f"bad channel {d.get('channel')!r}")
    if "verified_phone" in d and not (isinstance(d["verified_phone"], str)
                                      and PHONE_RE.match(d["verified_phone"])):
        err(where, "verified_phone must be an 11-digit mobile number string")
    voice = d.get("channel") == "voice"
    turns = d.get("turns")
    if not isinstance(turns, list) or not turns:
        err(where, "turns must be a non-empty list")
        turns = []
    for i, t in enumerate(turns):
        w = f"{where} turn {i + 1}"
        if not isinstance(t, dict) or set(t) - {"user", "expect"} or "user" not in t:
            err(w, "turn must have 'user' and optional 'expect' only")
            continue
        if not isinstance(t["user"], str) or not t["user"].strip():
            err(w, "user must be a non-empty string")
        elif voice and PUNCT_RE.search(t["user"]):
            err(w, f"voice transcript has punctuation: {t['user']}")
        e = t.get("expect")
        if e is None:
            continue
        if not isinstance(e, dict) or not e:
            err(w, "expect must be a non-empty mapping")
            continue
        for k in set(e) - EXPECT_KEYS:
            err(w, f"unknown expect key {k!r}")
        for k in EXPECT_LIST_KEYS & set(e):
            if not str_list(e[k]):
                err(w, f"{k} must be a non-empty list of strings")
        if "max_questions" in e and not (isinstance(e["max_questions"], int)
                                         and not isinstance(e["max_questions"], bool)
                                         and e["max_questions"] >= 0):
            err(w, "max_questions must be a non-negative int")
        if "handoff" in e and e["handoff"] not in (True, "urgent"):
            err(w, "handoff must be true or 'urgent'")
    a = d.get("answers")
    if a is not None:
        if not isinstance(a, dict) or not a:
            err(where, "answers must be a non-empty mapping")
        else:
            for k in set(a) - ANSWER_KEYS:
                err(where, f"unknown answers key {k!r}")
            for k, v in a.items():
                if not (isinstance(v, str) and v) and not str_list(v):
                    err(where, f"answers.{k} must be a string or a list of strings")
                vals = [v] if isinstance(v, str) else (v if isinstance(v, list) else [])
                if voice and any(isinstance(x, str) and PUNCT_RE.search(x) for x in vals):
                    err(where, f"voice answers.{k} has punctuation")
    o = d.get("outcome")
    if o is not None:
        if not isinstance(o, dict) or not o:
            return err(where, "outcome must be a non-empty mapping")
        for k in set(o) - OUTCOME_KEYS:
            err(where, f"unknown outcome key {k!r}")
        for k in ("service_answered", "not_service_answered"):
            if k in o and o[k] not in SERVICES:
                err(where, f"{k} {o[k]!r} is not in the service list")
        if "no_work_order" in o and o["no_work_order"] is not True:
            err(where, "no_work_order must be true")
        if "no_work_order" in o and "work_order" in o:
            err(where, "work_order and no_work_order together")
        if "work_order" in o:
            wo = o["work_order"]
            if not isinstance(wo, dict):
                return err(where, "work_order must be a mapping ({} = any work order)")
            for k in set(wo) - WO_KEYS:
                err(where, f"unknown work_order key {k!r}")
            if "type" in wo and wo["type"] not in WO_TYPES:
                err(where, f"bad work_order type {wo['type']!r}")
            if "district" in wo and wo["district"] not in DISTRICTS:
                err(where, f"bad district {wo['district']!r}")
            for k in ("description_contains", "address_contains", "since_contains"):
                if k in wo and not str_list(wo[k]):
                    err(where, f"work_order.{k} must be a non-empty list of strings")
            if "contact_last4" in wo and not (isinstance(wo["contact_last4"], str)
                                              and re.fullmatch(r"\d{4}", wo["contact_last4"])):
                err(where, "contact_last4 must be a 4-digit string")


def main():
    base = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    ids = collections.Counter()
    per_file = {}
    all_d = []
    for name in ("dev.yml", "test.yml"):
        with open(os.path.join(base, name), encoding="utf-8") as f:
            data = yaml.safe_load(f)
        if not isinstance(data, list):
            err(name, "top level must be a list")
            continue
        per_file[name] = data
        for i, d in enumerate(data):
            check(d, f"{name}[{i}] {d.get('id') if isinstance(d, dict) else ''}")
            if isinstance(d, dict):
                ids[d.get("id")] += 1
                if not re.fullmatch(r"d10-\d{4}", str(d.get("id"))):
                    err(name, f"bad id {d.get('id')!r}")
        all_d += [d for d in data if isinstance(d, dict)]
    for i, n in ids.items():
        if n > 1:
            err("ids", f"duplicate id {i}")
    cats = collections.Counter(d.get("category") for d in all_d)
    for c, need in CATEGORIES.items():
        if cats[c] < need:
            err("counts", f"{c}: {cats[c]} < {need}")
    for name, data in per_file.items():
        print(f"{name}: {len(data)} dialogues")
    print(f"total: {len(all_d)}")
    for field in ("category", "channel", "register"):
        total = collections.Counter(d.get(field) for d in all_d)
        print(f"\nby {field}:      total   dev  test")
        for k, n in sorted(total.items(), key=lambda kv: -kv[1]):
            dv = sum(1 for d in per_file.get("dev.yml", []) if d.get(field) == k)
            ts = sum(1 for d in per_file.get("test.yml", []) if d.get(field) == k)
            print(f"  {k:<16}{n:>6}{dv:>6}{ts:>6}")
    if errors:
        print(f"\n{len(errors)} problem(s):")
        for e in errors:
            print("  " + e)
        sys.exit(1)
    print("\nOK")


if __name__ == "__main__":
    main()
