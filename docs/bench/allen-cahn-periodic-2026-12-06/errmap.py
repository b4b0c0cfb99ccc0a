"""Where the error of an allen_cahn_periodic run lies.

Evaluates the run's field on the reference grid with `pdec eval --at`, prints the
relative L2 error (as `pdec solve` reports it), the largest error and where it is, and
the share of the squared error by time and by the distance 1 - |x| from the periodic
seam x = ±1.

    python3 docs/bench/allen-cahn-periodic-2026-12-06/errmap.py RUN_DIR \
        [PROBLEM] [PDEC] [REFERENCE_CSV]

from the repository root; PROBLEM (the .pde file) defaults to the one the checkpoint
names, PDEC to target/release/pdec, REFERENCE_CSV to
examples/data/allen_cahn_periodic_ref.csv. Writes RUN_DIR/points.csv and
RUN_DIR/at_reference.csv.
"""
import csv
import math
import os
import subprocess
import sys

run = sys.argv[1]
problem = sys.argv[2:3]
pdec = sys.argv[3] if len(sys.argv) > 3 else "target/release/pdec"
reference = sys.argv[4] if len(sys.argv) > 4 else "examples/data/allen_cahn_periodic_ref.csv"

rows = list(csv.DictReader(open(reference)))
points = os.path.join(run, "points.csv")
with open(points, "w") as f:
    f.write("t,x\n")
    for r in rows:
        f.write(f"{r['t']},{r['x']}\n")
predicted = os.path.join(run, "at_reference.csv")
subprocess.run(
    [pdec, "eval", run, "--at", points, "--out", predicted]
    + [arg for path in problem for arg in ("--problem", path)],
    check=True,
)
pred = list(csv.DictReader(open(predicted)))

T_EDGES = [0, 0.02, 0.05, 0.1, 0.2, 0.5, 1.01]
S_EDGES = [0, 0.01, 0.02, 0.05, 0.1, 0.2, 1.01]


def bin_of(v, edges):
    for i in range(len(edges) - 1):
        if edges[i] <= v < edges[i + 1]:
            return i
    return len(edges) - 2


num = den = 0.0
cells = {}
worst = (0.0, None)
for r, p in zip(rows, pred):
    t, x, u = float(r["t"]), float(r["x"]), float(r["u"])
    e = u - float(p["u"])
    num += e * e
    den += u * u
    key = (bin_of(t, T_EDGES), bin_of(1 - abs(x), S_EDGES))
    cells[key] = cells.get(key, 0.0) + e * e
    if abs(e) > worst[0]:
        worst = (abs(e), (t, x))
print(f"relative L2 {math.sqrt(num / den):.3e}, max abs {worst[0]:.3e} at (t, x) = {worst[1]}")
print("share of the squared error; rows: t below, columns: 1 - |x| below", S_EDGES[1:])
for i in range(len(T_EDGES) - 1):
    shares = " ".join(f"{cells.get((i, j), 0.0) / num:6.3f}" for j in range(len(S_EDGES) - 1))
    print(f"t < {T_EDGES[i + 1]:4.2f}  {shares}")
