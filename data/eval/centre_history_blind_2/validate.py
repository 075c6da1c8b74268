"""Check centre_history.csv (standard library only).

Checks: exact header, six columns per row, non-empty unique texts, level1/level2/level3
triple present in the public taxonomy, type in the five allowed values. Prints counts
by level1 (posts = titled rows, calls = untitled rows) and by type. Exit code 1 on failure.
"""
import collections
import csv
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, 'centre_history.csv')
TAXONOMY = os.environ.get('APPEAL_TAXONOMY',
                          '/work/shared/data/appeal_taxonomy/taxonomy_3level.csv')
HEADER = ['title', 'text', 'level1', 'level2', 'level3', 'type']
TYPES = {'投诉', '举报', '求助', '建议', '咨询'}


def main():
    errors = []
    with open(TAXONOMY, encoding='utf-8', newline='') as f:
        tax = {(r['level1'], r['level2'], r['level3']) for r in csv.DictReader(f)}
    with open(DATA, encoding='utf-8', newline='') as f:
        reader = csv.reader(f)
        header = next(reader)
        if header != HEADER:
            errors.append('bad header: %r' % header)
        rows = list(reader)
    seen = {}
    by_l1 = collections.defaultdict(lambda: [0, 0])
    by_type = collections.Counter()
    triples = set()
    for n, row in enumerate(rows, start=2):
        if len(row) != len(HEADER):
            errors.append('line %d: %d columns' % (n, len(row)))
            continue
        title, text, l1, l2, l3, ty = (c.strip() for c in row)
        if not text:
            errors.append('line %d: empty text' % n)
        elif text in seen:
            errors.append('line %d: text duplicates line %d' % (n, seen[text]))
        else:
            seen[text] = n
        if (l1, l2, l3) not in tax:
            errors.append('line %d: triple not in taxonomy: %s/%s/%s' % (n, l1, l2, l3))
        if ty not in TYPES:
            errors.append('line %d: bad type %r' % (n, ty))
        by_l1[l1][0 if title else 1] += 1
        by_type[ty] += 1
        triples.add((l1, l2, l3))
    posts = sum(v[0] for v in by_l1.values())
    calls = sum(v[1] for v in by_l1.values())
    print('rows %d  posts %d  calls %d' % (len(rows), posts, calls))
    print('%-16s %5s %5s %5s' % ('level1', 'total', 'posts', 'calls'))
    for l1, (p, c) in sorted(by_l1.items(), key=lambda kv: -sum(kv[1])):
        print('%-16s %5d %5d %5d' % (l1, p + c, p, c))
    print('by type: ' + ', '.join('%s %d' % kv for kv in by_type.most_common()))
    pairs = {(a, b) for a, b, _ in triples}
    print('distinct (level1, level2) pairs %d, distinct triples %d' % (len(pairs), len(triples)))
    if errors:
        print('FAILED (%d problems)' % len(errors))
        for e in errors[:50]:
            print('  ' + e)
        return 1
    print('OK')
    return 0


if __name__ == '__main__':
    sys.exit(main())
