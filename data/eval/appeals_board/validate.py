"""Validate the appeals_board eval set: labels exist in the taxonomy CSV, ids unique,
fields and registers well formed, counts as required. Usage:
    python validate.py [path/to/taxonomy_3level.csv]
Default CSV: <workspace>/shared/data/appeal_taxonomy/taxonomy_3level.csv
"""
import collections, csv, json, sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
csv_path = Path(sys.argv[1]) if len(sys.argv) > 1 else \
    HERE.parents[2].parent / 'shared' / 'data' / 'appeal_taxonomy' / 'taxonomy_3level.csv'
TYPES = {'投诉', '举报', '求助', '建议', '咨询'}
REGS = {'board', 'phone', 'phone_cantonese', 'phone_elderly', 'misleading'}
KEYS = ['id', 'title', 'text', 'level1', 'level2', 'level3', 'type', 'register']

with open(csv_path, encoding='utf-8') as f:
    tax = list(csv.DictReader(f))
triples = {(t['level1'], t['level2'], t['level3']) for t in tax}
all_l1 = {t['level1'] for t in tax}
all_l2 = {(t['level1'], t['level2']) for t in tax}
assert len(triples) == 517 and len(all_l1) == 15 and len(all_l2) == 118, 'unexpected taxonomy'

errors, rows, split_of = [], [], {}
for split in ('dev', 'test'):
    for n, line in enumerate(open(HERE / f'{split}.jsonl', encoding='utf-8'), 1):
        r = json.loads(line)
        where = f'{split}:{n}'
        if list(r) != KEYS: errors.append(f'{where} keys {list(r)}')
        if (r['level1'], r['level2'], r['level3']) not in triples:
            errors.append(f'{where} triple not in CSV: {r["level1"]}/{r["level2"]}/{r["level3"]}')
        if r['type'] not in TYPES: errors.append(f'{where} bad type {r["type"]}')
        if r['register'] not in REGS: errors.append(f'{where} bad register {r["register"]}')
        if r['id'] in split_of: errors.append(f'{where} duplicate id {r["id"]}')
        split_of[r['id']] = split
        if r['register'] == 'board':
            if not 8 <= len(r['title']) <= 25: errors.append(f'{where} title length {len(r["title"])}')
            if not 80 <= len(r['text']) <= 500: errors.append(f'{where} body length {len(r["text"])}')
        elif r['title'] != '':
            errors.append(f'{where} phone message with a title')
        r['_split'] = split
        rows.append(r)

texts = collections.Counter(r['text'] for r in rows)
errors += [f'duplicate text: {t[:30]}' for t, c in texts.items() if c > 1]
l1 = collections.Counter(r['level1'] for r in rows)
l2 = {(r['level1'], r['level2']) for r in rows}
if len(rows) < 450: errors.append(f'only {len(rows)} messages')
if set(l1) != all_l1: errors.append(f'missing level1: {all_l1 - set(l1)}')
errors += [f'level1 {k} has only {v}' for k, v in l1.items() if v < 10]
if len(l2) < 80: errors.append(f'only {len(l2)} second levels')

print(f'messages: {len(rows)}  (dev {sum(r["_split"]=="dev" for r in rows)}, '
      f'test {sum(r["_split"]=="test" for r in rows)})')
print(f'second levels covered: {len(l2)}/118; third-level cells used: '
      f'{len({(r["level1"], r["level2"], r["level3"]) for r in rows})}/517')
print('\nby level1 (total / dev / test):')
for k, v in l1.most_common():
    d = sum(r['level1'] == k and r['_split'] == 'dev' for r in rows)
    print(f'  {k:<10}{v:>5}{d:>6}{v - d:>6}')
print('\nby register:')
for k, v in collections.Counter(r['register'] for r in rows).most_common():
    print(f'  {k:<16}{v:>5}  {100 * v / len(rows):.1f}%')
print('\nby type:')
for k, v in collections.Counter(r['type'] for r in rows).most_common():
    print(f'  {k:<6}{v:>5}')
if errors:
    print('\nERRORS:'); print('\n'.join(errors)); sys.exit(1)
print('\nOK')
