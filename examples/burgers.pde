# Viscous Burgers equation u_t + u u_x - (0.01/π) u_xx = 0 on [0, 1] × [-1, 1],
# u(0, x) = -sin(πx), u(t, ±1) = 0. The reference solution in data/burgers_ref.csv is the
# Cole–Hopf solution evaluated by quadrature (tools/reference_data.py).
# Source: Raissi, Perdikaris & Karniadakis (2019); "Physics Informed Neural Networks:
# some insights and limitations" (lecture slides).
# The shock at x = 0 is ≈ 0.003 wide. With 2,000 uniform interior points the network
# fitted the points and put the shock between them, off its place (relative errors 0.33,
# 0.023, 0.14 for seeds 0–2; `pdec solve` warns of this through the held-out loss). The
# 4,000 Halton points below leave no gap that wide: 2.1e-3, 1.2e-3 and 1.6e-4 after 300
# SNGD iterations (docs/PERFORMANCE.md).
time  t in [0, 1]
space x in [-1, 1]
field u
const nu = 0.01/pi

dt(u) + u*dx(u) - nu*dxx(u) = 0   on interior
u = -sin(pi*x)                    on initial
u = 0                             on boundary

exact u from "data/burgers_ref.csv"

model  mlp(layers = [20, 20, 20, 20], activation = tanh)
sample interior = 4000, boundary = 200, initial = 200, sampler = halton
solve  optimizer = sngd, iterations = 300
