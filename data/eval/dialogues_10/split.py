#!/usr/bin/env python3
"""Split all.yml half/half into dev.yml and test.yml.

Stratified by category x channel: every stratum is shuffled and halved; the odd
items of odd-sized strata go alternately to dev and test (in a random order), so
the two files differ in size by at most one. Among 2000 such random splits
(fixed seed), the one best balanced by register (sum of |dev - test| over
registers, then over category x register) is kept."""
import collections, os, random
import yaml

BASE = os.path.dirname(os.path.abspath(__file__))
SEED = 12345
TRIES = 2000

with open(os.path.join(BASE, "all.yml"), encoding="utf-8") as f:
    data = yaml.safe_load(f)

strata = collections.defaultdict(list)
for d in data:
    strata[(d["category"], d["channel"])].append(d["id"])
keys = sorted(strata)


def one_split(rng):
    dev, test, odd = set(), set(), []
    for k in keys:
        ids = strata[k][:]
        rng.shuffle(ids)
        h = len(ids) // 2
        dev.update(ids[:h])
        test.update(ids[h:2 * h])
        if len(ids) % 2:
            odd.append(ids[-1])
    rng.shuffle(odd)
    for i, x in enumerate(odd):
        (dev if i % 2 else test).add(x)
    return dev, test


def score(dev):
    reg = collections.Counter()
    catreg = collections.Counter()
    for d in data:
        s = 1 if d["id"] in dev else -1
        reg[d["register"]] += s
        catreg[(d["category"], d["register"])] += s
    return (sum(abs(v) for v in reg.values()), sum(abs(v) for v in catreg.values()))


rng = random.Random(SEED)
best = None
for _ in range(TRIES):
    dev, test = one_split(rng)
    sc = score(dev)
    if best is None or sc < best[0]:
        best = (sc, dev, test)

sc, dev, test = best
for name, part in (("dev.yml", dev), ("test.yml", test)):
    rows = [d for d in data if d["id"] in part]
    with open(os.path.join(BASE, name), "w", encoding="utf-8") as f:
        yaml.safe_dump(rows, f, allow_unicode=True, sort_keys=False, width=1000)
    print(name, len(rows))
print("register imbalance (sum |dev-test|):", sc[0], " category x register:", sc[1])
