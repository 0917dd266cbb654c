#!/usr/bin/env python3
"""Counts TAP results in meson's testlog.json files (and plain TAP files):
each 'ok'/'not ok' line is one test; a test whose process failed with no
failing TAP line (crash, bad plan) counts as one failure more.
Prints 'N passed, N failed'."""
import json
import re
import sys

TAP = re.compile(r'^(not )?ok\b', re.M)


def count_tap(text):
    p = f = 0
    for m in TAP.finditer(text or ''):
        if m.group(1):
            f += 1
        else:
            p += 1
    return p, f


def main(paths):
    passed = failed = 0
    for path in paths:
        with open(path, encoding='utf-8', errors='replace') as fh:
            if path.endswith('.json'):
                for line in fh:
                    line = line.replace('\0', '')
                    if not line.strip():
                        continue
                    try:
                        t = json.loads(line)
                    except ValueError:
                        print(f'{path}: unreadable test record', file=sys.stderr)
                        failed += 1
                        continue
                    p, f = count_tap(t.get('stdout', ''))
                    ok = t.get('result') in ('OK', 'SKIP', 'EXPECTEDFAIL')
                    if p + f == 0:
                        p, f = (1, 0) if ok else (0, 1)
                    elif not ok and f == 0:
                        f = 1
                    passed += p
                    failed += f
            else:
                p, f = count_tap(fh.read())
                passed += p
                failed += f
    print(f'{passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
