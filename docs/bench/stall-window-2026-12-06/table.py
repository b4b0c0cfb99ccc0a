"""Markdown rows: each run's stop and returned iterate under the window of 100 and 200."""
import sys, glob, os
sys.path.insert(0, "/work/ext")
from replay import load, stalled_best, replay
rows = []
for path in sys.argv[1:]:
    limit, ev = load(path)
    name = os.path.basename(os.path.dirname(path))
    a = replay(ev, lambda e: stalled_best(e, 100), limit)
    b = replay(ev, lambda e: stalled_best(e, 200), limit)
    def cell(r):
        stop, why, it, err, last = r
        return f"{err:.2e} ({it}; {why} at {stop})"
    print(f"| {name} | {cell(a)} | {cell(b)} | {b[3]/a[3]:.2f} | {limit} |")
