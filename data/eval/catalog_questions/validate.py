"""Validate dev.jsonl / test.jsonl against the Guangdong service catalogue.

Usage: python3 validate.py [path/to/catalog_2262_slim.jsonl]
"""
import collections, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
CAT = sys.argv[1] if len(sys.argv) > 1 else '/work/shared/data/gd_service_catalog/catalog_2262_slim.jsonl'
KINDS = {'materials', 'rules', 'where_when', 'how', 'fees', 'none'}
REGS = {'plain', 'spoken', 'typo', 'cantonese', 'elderly', 'long'}
FIELDS = ['id', 'question', 'service', 'acceptable', 'department', 'kind', 'register']

recs = [json.loads(l) for l in open(CAT, encoding='utf-8')]
names = {r['TASK_NAME'] for r in recs}
depts_of = collections.defaultdict(set)
for r in recs:
    depts_of[r['TASK_NAME']].add(r['DEPT_NAME'].strip())

errors = []
rows = {}
for split in ('dev', 'test'):
    rows[split] = [json.loads(l) for l in open(os.path.join(HERE, f'{split}.jsonl'), encoding='utf-8')]

ids = collections.Counter(x['id'] for s in rows.values() for x in s)
errors += [f'duplicate id {i}' for i, c in ids.items() if c > 1]
qs = collections.Counter(x['question'] for s in rows.values() for x in s)
errors += [f'duplicate question {q}' for q, c in qs.items() if c > 1]

for split, data in rows.items():
    for x in data:
        if list(x) != FIELDS:
            errors.append(f'{x.get("id")}: fields {list(x)}')
        if x['kind'] not in KINDS: errors.append(f'{x["id"]}: kind {x["kind"]}')
        if x['register'] not in REGS: errors.append(f'{x["id"]}: register {x["register"]}')
        if x['service'] is None:
            if x['kind'] != 'none' or x['acceptable'] or x['department'] is not None:
                errors.append(f'{x["id"]}: out-of-catalogue row must have kind none, [] and null department')
        else:
            if x['service'] not in names: errors.append(f'{x["id"]}: service not in catalogue: {x["service"]}')
            if x['kind'] == 'none': errors.append(f'{x["id"]}: kind none but service set')
            if x['department'] not in depts_of.get(x['service'], ()):
                errors.append(f'{x["id"]}: department {x["department"]} not a department of {x["service"]}')
            if x['service'] in x['acceptable']: errors.append(f'{x["id"]}: service repeated in acceptable')
        for a in x['acceptable']:
            if a not in names: errors.append(f'{x["id"]}: acceptable not in catalogue: {a}')

allrows = rows['dev'] + rows['test']
n_none = sum(x['service'] is None for x in allrows)
services = {x['service'] for x in allrows if x['service']}
if len(allrows) < 360: errors.append(f'only {len(allrows)} questions')
if len(services) < 150: errors.append(f'only {len(services)} distinct services')
if not (0.07 <= n_none / len(allrows) <= 0.13): errors.append(f'out-of-catalogue share {n_none}/{len(allrows)}')

print(f'total {len(allrows)}  dev {len(rows["dev"])}  test {len(rows["test"])}')
print(f'in-catalogue {len(allrows) - n_none}  out-of-catalogue {n_none}  distinct services {len(services)}  departments {len({x["department"] for x in allrows if x["department"]})}')
for label, key in (('kind', 'kind'), ('register', 'register')):
    print(f'\nby {label}:        all   dev  test')
    keys = sorted({x[key] for x in allrows})
    for k in keys:
        c = [sum(x[key] == k for x in d) for d in (allrows, rows['dev'], rows['test'])]
        print(f'  {k:<12} {c[0]:>5} {c[1]:>5} {c[2]:>5}')
print('\nwith non-empty acceptable:', sum(bool(x['acceptable']) for x in allrows))
if errors:
    print('\nERRORS:'); [print(' ', e) for e in errors]; sys.exit(1)
print('\nOK')
