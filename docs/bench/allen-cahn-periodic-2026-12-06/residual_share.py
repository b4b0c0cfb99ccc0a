"""The share of the squared PDE residual of an allen_cahn_periodic run by region.

Evaluates dt(u) - 0.0001*dxx(u) + 5*u^3 - 5*u with `pdec eval --jet` at 20,000 uniform
points (seed 1) and prints its mean square and the shares near the periodic seam
x = ±1 (1 - |x| < 0.02) and at early times.

    python3 docs/bench/allen-cahn-periodic-2026-12-06/residual_share.py RUN_DIR \
        [PROBLEM] [PDEC]
"""
import csv
import os
import random
import subprocess
import sys

run = sys.argv[1]
problem = sys.argv[2:3]
pdec = sys.argv[3] if len(sys.argv) > 3 else "target/release/pdec"
residual = "dt(u) - 0.0001*dxx(u) + 5*u^3 - 5*u"

rng = random.Random(1)
points = os.path.join(run, "residual_points.csv")
with open(points, "w") as f:
    f.write("t,x\n")
    for _ in range(20000):
        f.write(f"{rng.random()!r},{rng.uniform(-1, 1)!r}\n")
out = os.path.join(run, "residual.csv")
subprocess.run(
    [pdec, "eval", run, "--at", points, "--jet", residual, "--out", out]
    + [arg for path in problem for arg in ("--problem", path)],
    check=True,
)
total = 0.0
cells = {}
rows = list(csv.DictReader(open(out)))
for row in rows:
    t, x, r = float(row["t"]), float(row["x"]), float(row[residual])
    key = ("t < 0.02" if t < 0.02 else "t < 0.1" if t < 0.1 else "t >= 0.1",
           "1 - |x| < 0.02" if 1 - abs(x) < 0.02 else "1 - |x| >= 0.02")
    cells[key] = cells.get(key, 0.0) + r * r
    total += r * r
print(f"mean r^2 {total / len(rows):.3e}")
for key in sorted(cells):
    print(f"{key[0]:9} {key[1]:16} {cells[key] / total:.3f}")
