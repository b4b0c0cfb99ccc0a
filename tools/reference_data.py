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
  The two runs differ by at most 6.5e-5 (printed). Against an independent solution (a
  one-off check, not kept here: Chebyshev collocation on 1,025 points, barycentric
  interpolation to the output points, Kennedy and Carpenter's fourth-order IMEX Runge-Kutta
  ARK4(3)6L[2]SA with dt = 1.25e-3; it moves by at most 4.1e-13 from 769 to 1,025 to 1,537
  points and by 1.3e-10 from dt = 2.5e-3) the shipped values are off by at most 1.2e-8
  (relative L2 6.9e-10), most at t = 1 on the interfaces near x = +-0.48; before
  extrapolation the fine run is off by 2.2e-5 and the coarse one by 8.7e-5. At the corners
  t = 0, x = +-1 the equation gives u_t = 1e-3 (pi^2 - 2) and the boundary condition u_t = 0;
  the thin layer this leaves is where the differences are largest at early times (at most
  5.5e-11, x = +-0.98), far below those at t = 1.
- allen_cahn_periodic_ref.csv: the benchmark form u_t - 1e-4 u_xx + 5 u^3 - 5 u = 0, x in
  [-1, 1] periodic, t in [0, 1], u(0,x) = x^2 cos(pi x) (Raissi et al. 2019; jaxpi), on
  t = 0, 0.01, ..., 1 and x = -1 + i/128, i = 0..256 (both ends, u(t,-1) = u(t,1)); the t = 0
  row is the exact data. u stays even in x, so it is a cosine series: 2,048 modes cos(k pi x)
  with the nonlinear term taken at x = j/2048 (a DCT-I through a radix-2 FFT in plain Python),
  Cox and Matthews' ETDRK4 with Kassam and Trefethen's contour means for the coefficients,
  dt = 5e-4, from the exact cosine coefficients of x^2 cos(pi x); about 80 s. Measured
  over the output grid, max abs / relative L2: against 4,096 modes 2.0e-12 / 3.8e-14; against
  dt = 2.5e-4 2.2e-12 / 3.8e-13; against Strang splitting (exact reaction half steps around
  exact diffusion, 2,048 modes) extrapolated from dt = 2e-4 and 1e-4, 7.6e-11 / 1.0e-11. That
  last gap is the splitting's, not ETDRK4's: it sits near x = 0 at t = 1 (u ~ 0 is unstable
  there and errors grow like exp(5t)) and it grows as dt shrinks (1.5e-10 extrapolating from
  1e-4 and 5e-5), as rounding accumulated over 10,000-20,000 steps would, where truncation
  would shrink. The shipped values are good to about 1e-11.
  Initial data: periodically extended, x^2 cos(pi x) has a kink at x = +-1 (u_x = -+2), so its
  coefficients fall off only like k^-2. The kink sits where u = -1, a stable equilibrium of
  the reaction (deviations decay like exp(-10 t)), and the modes above k are damped by
  exp(-1e-4 pi^2 k^2 t), so it shows only in the first hundredths: 512 modes are off by 7.0e-6
  at t = 0.01 and 2.4e-10 at t = 0.05, 1,024 modes by 4.7e-10 at t = 0.01 and 1e-13 at t = 1.
  Starting from exact coefficients matters: sampling the initial data at x = j/n aliases the
  k^-2 tail into every mode, and that error, O(n^-2), outlives the kink (with 2,048 modes
  2.0e-5 at t = 0.01, 2.6e-6 at t = 0.1, 1e-10 at t = 1).
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

    python3 tools/reference_data.py lotka_volterra   # only the files named (by prefix; a
                                                     # full name selects that file alone, so
                                                     # allen_cahn leaves allen_cahn_periodic)
    python3 tools/reference_data.py check_allen_cahn_periodic   # prints the comparisons above
                                                                # (about 10 minutes, no files)
"""
import cmath
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


def allen_cahn_ref():
    coarse = allen_cahn()
    fine = allen_cahn(4096, 1.25e-4)
    print("allen-cahn: max |fine - coarse| =",
          max(abs(p[2] - q[2]) for p, q in zip(coarse, fine)))
    rows = [(p[0], p[1], (4 * q[2] - p[2]) / 3) for p, q in zip(coarse, fine)]
    write_csv("allen_cahn_ref.csv", ["t", "x", "u"], rows)


_TWIDDLES = {}


def fft(a):
    """Radix-2 FFT, X_k = sum_j a_j exp(-2 pi i j k / n), len(a) a power of two."""
    n = len(a)
    if n <= 2:
        return [a[0] + a[1], a[0] - a[1]] if n == 2 else list(a)
    w = _TWIDDLES.get(n)
    if w is None:
        w = _TWIDDLES[n] = [complex(math.cos(2 * math.pi * k / n), -math.sin(2 * math.pi * k / n))
                            for k in range(n // 2)]
    even = fft(a[0::2])
    odd = [c * o for c, o in zip(w, fft(a[1::2]))]
    return [e + o for e, o in zip(even, odd)] + [e - o for e, o in zip(even, odd)]


_DCT_WEIGHTS = {}


def dct1(y):
    """Y_k = (y_0 + (-1)^k y_n) / 2 + sum_{j=1}^{n-1} y_j cos(pi j k / n), k = 0..n, where
    n = len(y) - 1 is a power of two: half the real DFT of the even extension of y to length 2n,
    by one complex FFT of length n. dct1(dct1(y)) = (n/2) y. (The shorter route through an FFT
    of length n/2 recovers the odd Y_k by a running sum, whose rounding drifts: 1.7e-12 per
    forward-backward pass at x = 0 with n = 2,048, against 2e-15 here.)"""
    n = len(y) - 1
    w = _DCT_WEIGHTS.get(n)
    if w is None:
        w = _DCT_WEIGHTS[n] = [complex(math.cos(math.pi * k / n), -math.sin(math.pi * k / n)) / 4
                               for k in range(n + 1)]
    extended = y + y[n - 1:0:-1]
    big = fft([complex(a, b) for a, b in zip(extended[0::2], extended[1::2])])
    big.append(big[0])
    return [(big[k].real + big[n - k].real) / 4 + (w[k] * (big[k] - big[n - k].conjugate())).imag
            for k in range(n + 1)]


T_PERIODIC = [k / 100 for k in range(101)]
X_PERIODIC = [-1 + i / 128 for i in range(257)]


def allen_cahn_periodic(n=2048, dt=5e-4, scheme="etdrk4"):
    """u_t = 1e-4 u_xx + 5 (u - u^3), x in [-1, 1] periodic, u(0,x) = x^2 cos(pi x), on the cosine
    modes cos(k pi x), k = 0..n (u stays even in x); rows (t, x, u) on T_PERIODIC x X_PERIODIC.
    scheme "etdrk4": Cox-Matthews ETDRK4; "strang": Strang splitting, exact reaction half steps
    around exact diffusion. The nonlinear term is evaluated at x_j = j/n, j = 0..n."""
    eps, rate = 1e-4, 5.0

    def moment(m):  # int_0^1 x^2 cos(m pi x) dx
        return 1 / 3 if m == 0 else 2 * (-1) ** m / (m * math.pi) ** 2

    # exact cosine coefficients of the initial data, scaled so that u(x_j) = dct1(v)_j
    # (v_k is the coefficient of cos(k pi x), doubled for k = 0 and k = n)
    v = [2 * moment(1)] + [moment(k - 1) + moment(k + 1) for k in range(1, n + 1)]
    v[n] *= 2
    lam = [-eps * (k * math.pi) ** 2 * dt for k in range(n + 1)]
    scale = 2 / n

    if scheme == "etdrk4":
        # Kassam-Trefethen: the phi-functions as means over 64 points of a unit circle around
        # dt * lambda (32 in the upper half plane, the real part standing for the other half)
        roots = [complex(math.cos(math.pi * (j + 0.5) / 32), math.sin(math.pi * (j + 0.5) / 32))
                 for j in range(32)]
        e1, e2, q, f1, f2, f3 = [], [], [], [], [], []
        for z in lam:
            e1.append(math.exp(z))
            e2.append(math.exp(z / 2))
            sq = s1 = s2 = s3 = 0
            for r0 in roots:
                r = z + r0
                er = cmath.exp(r)
                sq += (cmath.exp(r / 2) - 1) / r
                s1 += (-4 - r + er * (4 - 3 * r + r * r)) / r ** 3
                s2 += (2 + r + er * (r - 2)) / r ** 3
                s3 += (-4 - 3 * r - r * r + er * (4 - r)) / r ** 3
            q.append(dt * sq.real / 32)
            f1.append(dt * s1.real / 32)
            f2.append(dt * s2.real / 32)
            f3.append(dt * s3.real / 32)

        def nonlinear(v):
            return [scale * w for w in dct1([rate * (u - u * u * u) for u in dct1(v)])]

        def step(v):
            nv = nonlinear(v)
            a = [e * x + g * y for e, x, g, y in zip(e2, v, q, nv)]
            na = nonlinear(a)
            b = [e * x + g * y for e, x, g, y in zip(e2, v, q, na)]
            nb = nonlinear(b)
            c = [e * x + g * (2 * y - w) for e, x, g, y, w in zip(e2, a, q, nb, nv)]
            nc = nonlinear(c)
            return [e * x + g1 * p + 2 * g2 * (pa + pb) + g3 * pc
                    for e, x, g1, g2, g3, p, pa, pb, pc in zip(e1, v, f1, f2, f3, nv, na, nb, nc)]

        def values(v):
            return dct1(v)
    else:
        # the state is u at x_j; react is the exact flow of u' = rate (u - u^3) over dt/2
        grow, spread = math.exp(rate * dt / 2), math.expm1(rate * dt)
        decay = [scale * math.exp(z) for z in lam]

        def react(u):
            return [w * grow / math.sqrt(1 + w * w * spread) for w in u]

        def step(u):
            return react(dct1([d * w for d, w in zip(decay, dct1(react(u)))]))

        def values(u):
            return u
        v = dct1(v)

    per_out = int(round(0.01 / dt))
    stride = n // 128
    rows = [(0.0, x, x * x * math.cos(math.pi * x)) for x in X_PERIODIC]
    for t in T_PERIODIC[1:]:
        for _ in range(per_out):
            v = step(v)
        u = values(v)
        rows.extend((t, x, u[abs(128 - i) * stride]) for i, x in enumerate(X_PERIODIC))
    return rows


def allen_cahn_periodic_ref():
    write_csv("allen_cahn_periodic_ref.csv", ["t", "x", "u"], allen_cahn_periodic())


def differences(rows, ref):
    """Max abs and relative L2 difference of the u columns of two row lists on the same grid."""
    diff = [p[-1] - q[-1] for p, q in zip(rows, ref)]
    rel = math.sqrt(sum(d * d for d in diff) / sum(q[-1] ** 2 for q in ref))
    return max(abs(d) for d in diff), rel


def check_allen_cahn_periodic():
    ref = allen_cahn_periodic()
    strang = [allen_cahn_periodic(2048, dt, "strang") for dt in (2e-4, 1e-4)]
    extrapolated = [(p[0], p[1], (4 * q[2] - p[2]) / 3) for p, q in zip(*strang)]
    for label, rows in [("1,024 modes", allen_cahn_periodic(1024)),
                        ("4,096 modes", allen_cahn_periodic(4096)),
                        ("dt = 2.5e-4", allen_cahn_periodic(2048, 2.5e-4)),
                        ("Strang, dt = 1e-4", strang[1]),
                        ("Strang, Richardson", extrapolated)]:
        print("allen-cahn periodic vs %s: max abs %.2e, relative L2 %.2e"
              % ((label,) + differences(rows, ref)))


GENERATORS = [
    ("inverse_poisson1d", inverse_poisson_obs),
    ("burgers", burgers),
    ("allen_cahn", allen_cahn_ref),
    ("allen_cahn_periodic", allen_cahn_periodic_ref),
    ("lotka_volterra", lotka_volterra),
    ("heat_conductivity", heat_conductivity),
    ("heat_source", heat_source_obs),
]


# run only when named in full; they print the comparisons quoted above and write nothing
CHECKS = [
    ("check_allen_cahn_periodic", check_allen_cahn_periodic),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    wanted = sys.argv[1:]
    names = [name for name, _ in GENERATORS]
    for name, generate in GENERATORS:
        # a full name selects that file alone (allen_cahn is also how allen_cahn_periodic starts)
        if not wanted or any(w == name or (w not in names and name.startswith(w)) for w in wanted):
            generate()
    for name, check in CHECKS:
        if name in wanted:
            check()


if __name__ == "__main__":
    main()
