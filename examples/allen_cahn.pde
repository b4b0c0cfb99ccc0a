# Allen–Cahn equation u_t - 0.001 u_xx - 5 (u - u^3) = 0 on [0, 1] × [-1, 1],
# u(0, x) = x² cos(πx), u = -1 at x = ±1. No closed form: the reference solution in
# data/allen_cahn_ref.csv comes from a fine finite-difference solve with Strang splitting
# and Richardson extrapolation, good to 1.2e-8 (tools/reference_data.py).
# Source: Schwencke & Furtlehner, ANaGRAM (ICLR 2025); Raissi et al. (2019).
# The initial and boundary data agree at the corners (x² cos(πx) = -1 at x = ±1), so both
# are built into the ansatz u = A + φ·N. With these defaults (SNGD by size) the runner,
# seeds 0–4 with a 10-minute budget per run, gives a median of 3.0e-5 (worst 4.6e-5) at
# one thread and 2.7e-5 (worst 6.0e-5) at two (docs/PERFORMANCE.md, "Step-length trust
# region against the grid line search"); with penalty blocks it was 2.55e-4 after
# 47 minutes.
time  t in [0, 1]
space x in [-1, 1]
field u

dt(u) - 0.001*dxx(u) - 5*(u - u^3) = 0   on interior
u = x^2*cos(pi*x)                        on initial
u = -1                                   on boundary

exact u from "data/allen_cahn_ref.csv"

model  mlp(layers = [32, 32, 32], activation = tanh)
sample interior = 2000
solve  iterations = 2000
