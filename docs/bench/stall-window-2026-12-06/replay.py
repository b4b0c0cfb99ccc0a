"""Replays stall rules on a history recorded with the stall rule off (`--patience 0`):
a history.csv, a checkpoint.json, or the *-evaluated.csv files beside this script.

The trajectory does not depend on the stall rule (it only decides when to stop), so each
rule's stop and returned iterate (the lowest held-out loss so far) are read off the one
history.  Usage: replay.py FILE [...]
"""
import csv, math, sys, statistics

def load(path):
    if path.endswith(".json"):
        import json
        c = json.load(open(path))["state"]
        held = {int(it): float(h) for it, h in c["heldout_history"]}
        err = {int(it): float(e[0]["relative_l2"]) for it, e in c["error_history"]}
        ev = [(it, held[it], err[it]) for it in sorted(held) if it in err]
        return int(c["history"][-1]["iteration"]), ev
    rows = list(csv.DictReader(open(path)))
    field = [k for k in rows[0] if k.startswith("rel_l2_")][0]
    ev = [(int(r["iteration"]), float(r["heldout_loss"]), float(r[field]))
          for r in rows if r["heldout_loss"]]
    return int(rows[-1]["iteration"]), ev

def best_upto(ev, k):
    vals = [h for it, h, _ in ev if it <= k]
    return min(vals) if vals else None

def stalled_best(ev, window, tol=1e-3):
    last = ev[-1][0]
    then = last - window
    if then < 0:
        return False
    before = best_upto(ev, then)
    if before is None:
        return False
    return best_upto(ev, last) >= (1 - tol) * before

def smooth(ev, k):
    out = []
    for i in range(len(ev)):
        lo = max(0, i - k + 1)
        out.append((ev[i][0], statistics.median(h for _, h, _ in ev[lo:i + 1]), ev[i][2]))
    return out

def stalled_trend(ev, window):
    last = ev[-1][0]
    pts = [(it, math.log(h)) for it, h, _ in ev if it > last - window]
    if last < window or len(pts) < 5:
        return False
    n = len(pts); mx = sum(p[0] for p in pts) / n; my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    slope = sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx
    # stalled when the fitted decrease per 100 iterations is under 0.1 %
    return slope * 100 > math.log(1 - 1e-3)

RULES = {
    "best w100 (now)": lambda ev: stalled_best(ev, 100),
    "best w200": lambda ev: stalled_best(ev, 200),
    "best w300": lambda ev: stalled_best(ev, 300),
    "median5 w100": lambda ev: stalled_best(smooth(ev, 5), 100),
    "median5 w200": lambda ev: stalled_best(smooth(ev, 5), 200),
    "trend w200": lambda ev: stalled_trend(ev, 200),
    "trend w400": lambda ev: stalled_trend(ev, 400),
}

def replay(ev, rule, limit):
    for i in range(len(ev)):
        sub = ev[:i + 1]
        if rule(sub):
            break
    else:
        i = len(ev) - 1
    sub = ev[:i + 1]
    best = min(sub, key=lambda e: e[1])
    stopped = "stalled" if i < len(ev) - 1 or rule(sub) else "limit"
    return sub[-1][0], stopped, best[0], best[2], sub[-1][2]

if __name__ == "__main__":
    for path in sys.argv[1:]:
        limit, ev = load(path)
        print(f"{path}: recorded to {limit}, min error {min(e[2] for e in ev):.3g}")
        for name, rule in RULES.items():
            stop, why, it, err, last = replay(ev, rule, limit)
            print(f"  {name:16s} stop {stop:5d} {why:8s} returns {it:5d}: {err:.3g}  (last {last:.3g})")
