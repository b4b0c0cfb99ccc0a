#!/usr/bin/env python3
"""Per-iteration cost of every optimizer on a set of example problems.

Runs the release binary (`cargo build --release` first) for a few iterations per
(problem, optimizer) pair and prints a Markdown table of the median seconds per
iteration, read from each run's summary.json. Standard library only.

    python3 tools/bench_solvers.py                      # poisson2d and heat1d_large
    python3 tools/bench_solvers.py --iterations 50 --problems examples/heat1d.pde

The median of `s_per_iter_median` is robust to the first iteration's set-up costs; run
it on an idle machine, since other work on the cores inflates every figure.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

OPTIMIZERS = ["engd", "sngd", "anagram", "adam", "lbfgs"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--problems",
        nargs="+",
        default=["examples/poisson2d.pde", "examples/heat1d_large.pde"],
    )
    parser.add_argument("--optimizers", nargs="+", default=OPTIMIZERS)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--binary", default="target/release/pdec")
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} not found: run `cargo build --release` first")

    print("| problem | N | P | optimizer | iterations | s / iteration (median) | last rank |")
    print("|---|---|---|---|---|---|---|")
    for problem in args.problems:
        for optimizer in args.optimizers:
            with tempfile.TemporaryDirectory() as out:
                command = [
                    args.binary, "solve", problem,
                    "--optimizer", optimizer,
                    "--iterations", str(args.iterations),
                    "--threads", str(args.threads),
                    "--eval-every", "0",
                    "--quiet", "--no-plots",
                    "--out", out,
                ]
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode != 0:
                    print(f"| {problem} | | | {optimizer} | failed: {done.stderr.strip()} | | |")
                    continue
                with open(os.path.join(out, "summary.json")) as f:
                    summary = json.load(f)
            name = os.path.splitext(os.path.basename(problem))[0]
            rank = summary["rank"] if summary["rank"] is not None else "–"
            print(
                f"| {name} | {summary['n_points']} | {summary['n_params']} | {optimizer} "
                f"| {summary['iterations']} | {summary['s_per_iter_median']:.4f} | {rank} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
