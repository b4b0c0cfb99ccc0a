"""Markdown rows: each run's stop and returned iterate under the window of 100 and 200.

Usage: table.py FILE [...] (the *-evaluated.csv files here, or history.csv files)."""
import sys, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from replay import load, stalled_best, replay
rows = []
for path in sys.argv[1:]:
    limit, ev = load(path)
    base = os.path.basename(path)
    name = (base[: -len("-evaluated.csv")] if base.endswith("-evaluated.csv")
            else os.path.basename(os.path.dirname(path)))
    a = replay(ev, lambda e: stalled_best(e, 100), limit)
    b = replay(ev, lambda e: stalled_best(e, 200), limit)
    def cell(r):
        stop, why, it, err, last = r
        return f"{err:.2e} ({it}; {why} at {stop})"
    print(f"| {name} | {cell(a)} | {cell(b)} | {b[3]/a[3]:.2f} | {limit} |")
