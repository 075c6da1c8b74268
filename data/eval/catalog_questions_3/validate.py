#!/usr/bin/env python3
"""Validate catalog_questions_3 (dev.jsonl, test.jsonl) against the Guangdong service catalogue.

Standard library only. Usage:
    python3 validate.py [--catalog PATH]
Default catalogue: /work/shared/data/gd_service_catalog/catalog_2262_slim.jsonl
(or ../../../../shared/data/gd_service_catalog/... relative to this file). Exit code 0 if valid.
"""
import argparse, collections, json, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
CANDIDATES = [
    '/work/shared/data/gd_service_catalog/catalog_2262_slim.jsonl',
    os.path.join(HERE, '../../../../shared/data/gd_service_catalog/catalog_2262_slim.jsonl'),
]
FIELDS = ['id', 'question', 'service', 'acceptable', 'department', 'kind', 'register']
KINDS = {'materials', 'rules', 'where_when', 'how', 'fees', 'none'}
REGISTERS = {'plain', 'spoken', 'typo', 'cantonese', 'elderly', 'long'}
ID_RE = re.compile(r'^cq3-\d{4}$')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--catalog')
    a = ap.parse_args()
    path = a.catalog or next((p for p in CANDIDATES if os.path.exists(p)), None)
    if not path:
        sys.exit('catalogue file not found; pass --catalog')
    name_depts = collections.defaultdict(set)
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                name_depts[r['TASK_NAME']].add(r['DEPT_NAME'].strip())
    all_depts = set().union(*name_depts.values())

    errors = []
    seen_ids, seen_q = set(), set()
    rows = {}
    for split in ('dev.jsonl', 'test.jsonl'):
        rows[split] = []
        with open(os.path.join(HERE, split), encoding='utf-8') as f:
            for n, line in enumerate(f, 1):
                where = f'{split}:{n}'
                try:
                    o = json.loads(line)
                except json.JSONDecodeError as e:
                    errors.append(f'{where}: bad JSON {e}'); continue
                if list(o.keys()) != FIELDS:
                    errors.append(f'{where}: fields {list(o.keys())} != {FIELDS}')
                if not isinstance(o.get('id'), str) or not ID_RE.match(o['id']):
                    errors.append(f'{where}: bad id {o.get("id")!r}')
                elif o['id'] in seen_ids:
                    errors.append(f'{where}: duplicate id {o["id"]}')
                seen_ids.add(o.get('id'))
                q = o.get('question')
                if not isinstance(q, str) or len(q.strip()) < 4:
                    errors.append(f'{where}: empty/short question')
                elif q in seen_q:
                    errors.append(f'{where}: duplicate question')
                seen_q.add(q)
                if o.get('kind') not in KINDS:
                    errors.append(f'{where}: bad kind {o.get("kind")!r}')
                if o.get('register') not in REGISTERS:
                    errors.append(f'{where}: bad register {o.get("register")!r}')
                svc, acc, dept = o.get('service'), o.get('acceptable'), o.get('department')
                if not isinstance(acc, list) or not all(isinstance(x, str) for x in acc):
                    errors.append(f'{where}: acceptable must be a list of strings'); acc = []
                if svc is None:
                    if acc:
                        errors.append(f'{where}: null service with acceptable names')
                    if dept is not None:
                        errors.append(f'{where}: null service with department')
                    if o.get('kind') != 'none':
                        errors.append(f'{where}: null service must have kind none')
                else:
                    if o.get('kind') == 'none':
                        errors.append(f'{where}: kind none but service set')
                    if svc not in name_depts:
                        errors.append(f'{where}: service not in catalogue: {svc!r}')
                    elif dept not in name_depts[svc]:
                        errors.append(f'{where}: department {dept!r} not a department of {svc!r} {sorted(name_depts[svc])}')
                    for x in acc:
                        if x not in name_depts:
                            errors.append(f'{where}: acceptable not in catalogue: {x!r}')
                        if x == svc:
                            errors.append(f'{where}: acceptable repeats service')
                    if len(set(acc)) != len(acc):
                        errors.append(f'{where}: duplicate acceptable names')
                rows[split].append(o)

    def table(rs, title):
        print(f'== {title}: {len(rs)} questions, in catalogue {sum(r["service"] is not None for r in rs)}, '
              f'outside (null) {sum(r["service"] is None for r in rs)}')
        regs = sorted(REGISTERS)
        print('kind        ' + ' '.join(f'{g[:9]:>9}' for g in regs) + '     total')
        for k in ['materials', 'rules', 'where_when', 'how', 'fees', 'none']:
            c = collections.Counter(r['register'] for r in rs if r['kind'] == k)
            print(f'{k:<12}' + ' '.join(f'{c[g]:>9}' for g in regs) + f'{sum(c.values()):>10}')
        c = collections.Counter(r['register'] for r in rs)
        print(f'{"total":<12}' + ' '.join(f'{c[g]:>9}' for g in regs) + f'{len(rs):>10}')

    allrows = rows['dev.jsonl'] + rows['test.jsonl']
    for s in ('dev.jsonl', 'test.jsonl'):
        table(rows[s], s)
    table(allrows, 'all')
    svcs = {r['service'] for r in allrows if r['service']}
    depts = {r['department'] for r in allrows if r['department']}
    prov = sum(1 for r in allrows if r['department'] and not r['department'].startswith('广州'))
    city = sum(1 for r in allrows if r['department'] and r['department'].startswith('广州'))
    print(f'distinct services: {len(svcs)}  distinct departments: {len(depts)}  '
          f'(catalogue: {len(name_depts)} names, {len(all_depts)} departments)')
    print(f'labelled records: provincial departments {prov}, Guangzhou departments {city}')
    if errors:
        print(f'\nFAILED: {len(errors)} error(s)')
        for e in errors[:100]:
            print('  ' + e)
        sys.exit(1)
    print('\nOK: all lines valid')


if __name__ == '__main__':
    main()
