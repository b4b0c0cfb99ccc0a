#!/usr/bin/env python3
"""Regenerates the reference data shipped in examples/data/ (standard library only).

    python3 tools/reference_data.py            # writes examples/data/*.csv

- inverse_poisson1d_obs.csv: 25 observations of u = sin(pi x) at x = i/26.
- burgers_ref.csv: the Cole-Hopf solution of u_t + u u_x = nu u_xx, u(0,x) = -sin(pi x),
  nu = 0.01/pi, evaluated by trapezoidal quadrature of the heat-kernel integrals in
  log-sum-exp form, on t = 0, 0.02, ..., 1 and 129 equispaced x in [-1, 1].
- allen_cahn_ref.csv: u_t = 1e-3 u_xx + 5 (u - u^3), u(0,x) = x^2 cos(pi x), u(t,+-1) = -1,
  by Strang splitting (exact reaction half steps, Crank-Nicolson diffusion), both second
  order: two runs (2,048 cells with dt = 2.5e-4, and 4,096 cells with dt = 1.25e-4) are
  combined by Richardson extrapolation, (4 fine - coarse) / 3, on the same output grid.
  The two runs differ by at most 6.5e-5, which bounds the error before extrapolation.
- lotka_volterra_ref.csv: the Lotka-Volterra system x' = 2x - 4xy, y' = 2xy - 1.06y,
  x(0) = 1, y(0) = 0.15 (DeepXDE's example, populations in hundreds) on t = 0, 0.01, ..., 5,
  by classical Runge-Kutta (RK4) with 80,000 steps. A run with half as many steps differs
  from it by at most 5e-14 (printed), so with RK4's fourth order the error of the shipped
  values is about 5e-14 / 15: rounding level, far below the 1e-4 the example is solved to.
- lotka_volterra_obs.csv: 51 noise-free observations of that solution, t = 0, 0.1, ..., 5,
  for the inverse example.
- heat_source_obs.csv: 200 noise-free observations of u = exp(-pi^2 t) sin(pi x) + s(x),
  s(x) = sin(2 pi x)/(4 pi^2) + x (1 - x)/2, at the Halton points (bases 2 and 3, from
  index 1) in [0, 1]^2 as (x, t) (header x,t,u), for heat_source_inverse.pde
  (u_t - u_xx = a(x) with a = 1 + sin(2 pi x)). Scattered, not on a grid: on a grid a
  wiggle of u that vanishes on every grid line of x would go unseen.
- heat_conductivity.csv: the conductivity k(x, t) = 1 + sin(2 pi x) exp(-t) / 2 of
  heat_gridded.pde on the 65 x 65 grid x, t = i/64 (header x,t,k), to full precision.

    python3 tools/reference_data.py lotka_volterra   # only the files named (by prefix)
"""
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "examples", "data")

T_OUT = [k / 50 for k in range(51)]
X_OUT = [-1 + 2 * i / 128 for i in range(129)]


def write_csv(name, header, rows):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for row in rows:
            f.write(",".join(repr(float(v)) for v in row) + "\n")
    print(f"wrote {path} ({len(rows)} rows)")


def inverse_poisson_obs():
    rows = [(i / 26, math.sin(math.pi * i / 26)) for i in range(1, 26)]
    write_csv("inverse_poisson1d_obs.csv", ["x", "u"], rows)


def heat_source_obs():
    def u(x, t):
        steady = math.sin(2 * math.pi * x) / (4 * math.pi ** 2) + x * (1 - x) / 2
        return math.exp(-math.pi ** 2 * t) * math.sin(math.pi * x) + steady
    def van_der_corput(n, base):
        value, scale = 0.0, 1.0
        while n:
            scale /= base
            n, digit = divmod(n, base)
            value += digit * scale
        return value
    points = [(van_der_corput(k, 2), van_der_corput(k, 3)) for k in range(1, 201)]
    rows = [(x, t, u(x, t)) for x, t in points]
    write_csv("heat_source_obs.csv", ["x", "t", "u"], rows)


def heat_conductivity():
    lines = [i / 64 for i in range(65)]
    rows = [(x, t, 1 + math.sin(2 * math.pi * x) * math.exp(-t) / 2)
            for x in lines for t in lines]
    write_csv("heat_conductivity.csv", ["x", "t", "k"], rows)


def burgers_value(t, x, nu):
    if t == 0:
        return -math.sin(math.pi * x)
    sigma = math.sqrt(2 * nu * t)
    half = 12 * sigma + 200 * sigma * sigma
    h = min(sigma / 40, 0.001)
    n = int(math.ceil(2 * half / h))
    h = 2 * half / n
    expo = []
    sins = []
    for j in range(n + 1):
        eta = -half + j * h
        y = x - eta
        expo.append(-math.cos(math.pi * y) / (2 * math.pi * nu) - eta * eta / (4 * nu * t))
        sins.append(math.sin(math.pi * y))
    top = max(expo)
    num = 0.0
    den = 0.0
    for j in range(n + 1):
        w = math.exp(expo[j] - top) * (0.5 if j in (0, n) else 1.0)
        num += sins[j] * w
        den += w
    return -num / den


def burgers():
    nu = 0.01 / math.pi
    rows = [(t, x, burgers_value(t, x, nu)) for t in T_OUT for x in X_OUT]
    write_csv("burgers_ref.csv", ["t", "x", "u"], rows)


def allen_cahn(n_cells=2048, dt=2.5e-4):
    eps, rate = 1e-3, 5.0
    h = 2 / n_cells
    xs = [-1 + i * h for i in range(n_cells + 1)]
    u = [x * x * math.cos(math.pi * x) for x in xs]
    u[0] = u[-1] = -1.0
    m = n_cells - 1  # interior unknowns
    a = eps * dt / (2 * h * h)

    def react(u, tau):
        # exact solution of u' = rate (u - u^3)
        g = math.exp(2 * rate * tau)
        return [v * math.exp(rate * tau) / math.sqrt(1 + v * v * (g - 1)) for v in u]

    def diffuse(u):
        # Crank-Nicolson with Dirichlet ends (kept at -1): (I - aL) u_new = (I + aL) u
        rhs = [0.0] * m
        for i in range(1, n_cells):
            rhs[i - 1] = u[i] + a * (u[i - 1] - 2 * u[i] + u[i + 1])
        rhs[0] += a * u[0]
        rhs[-1] += a * u[-1]
        # Thomas algorithm for the tridiagonal system with diagonal 1+2a, off-diagonals -a
        c = [0.0] * m
        d = [0.0] * m
        c[0] = -a / (1 + 2 * a)
        d[0] = rhs[0] / (1 + 2 * a)
        for i in range(1, m):
            den = 1 + 2 * a + a * c[i - 1]
            c[i] = -a / den
            d[i] = (rhs[i] + a * d[i - 1]) / den
        out = [0.0] * m
        out[-1] = d[-1]
        for i in range(m - 2, -1, -1):
            out[i] = d[i] - c[i] * out[i + 1]
        return [u[0]] + out + [u[-1]]

    steps_per_out = int(round(0.02 / dt))
    stride = n_cells // 128
    rows = []
    for k in range(len(T_OUT)):
        if k > 0:
            for _ in range(steps_per_out):
                u = react(u, dt / 2)
                u = diffuse(u)
                u = react(u, dt / 2)
        rows.extend((T_OUT[k], xs[i * stride], u[i * stride]) for i in range(129))
    return rows


def lotka_volterra_rk4(n_steps, t_end=5.0, every=0.01):
    """RK4 for x' = 2x - 4xy, y' = 2xy - 1.06y from (1, 0.15); rows (t, x, y) every `every`."""

    def rate(x, y):
        return 2 * x - 4 * x * y, 2 * x * y - 1.06 * y

    h = t_end / n_steps
    stride = int(round(every / h))
    x, y = 1.0, 0.15
    rows = [(0.0, x, y)]
    for k in range(1, n_steps + 1):
        a = rate(x, y)
        b = rate(x + h / 2 * a[0], y + h / 2 * a[1])
        c = rate(x + h / 2 * b[0], y + h / 2 * b[1])
        d = rate(x + h * c[0], y + h * c[1])
        x += h / 6 * (a[0] + 2 * b[0] + 2 * c[0] + d[0])
        y += h / 6 * (a[1] + 2 * b[1] + 2 * c[1] + d[1])
        if k % stride == 0:
            rows.append((round(k * h, 12), x, y))
    return rows


def lotka_volterra():
    coarse = lotka_volterra_rk4(40_000)
    fine = lotka_volterra_rk4(80_000)
    diff = max(max(abs(p[1] - q[1]), abs(p[2] - q[2])) for p, q in zip(coarse, fine))
    print("lotka-volterra: max |fine - coarse| =", diff)
    write_csv("lotka_volterra_ref.csv", ["t", "x", "y"], fine)
    write_csv("lotka_volterra_obs.csv", ["t", "x", "y"], fine[::10])


GENERATORS = [
    ("inverse_poisson1d", inverse_poisson_obs),
    ("burgers", burgers),
    ("allen_cahn", lambda: allen_cahn_ref()),
    ("lotka_volterra", lotka_volterra),
    ("heat_conductivity", heat_conductivity),
    ("heat_source", heat_source_obs),
]


def allen_cahn_ref():
    coarse = allen_cahn()
    fine = allen_cahn(4096, 1.25e-4)
    print("allen-cahn: max |fine - coarse| =",
          max(abs(p[2] - q[2]) for p, q in zip(coarse, fine)))
    rows = [(p[0], p[1], (4 * q[2] - p[2]) / 3) for p, q in zip(coarse, fine)]
    write_csv("allen_cahn_ref.csv", ["t", "x", "u"], rows)


def main():
    os.makedirs(OUT, exist_ok=True)
    wanted = sys.argv[1:]
    for name, generate in GENERATORS:
        if not wanted or any(name.startswith(w) for w in wanted):
            generate()


if __name__ == "__main__":
    main()
