# Viscous Burgers equation u_t + u u_x - (0.01/π) u_xx = 0 on [0, 1] × [-1, 1],
# u(0, x) = -sin(πx), u(t, ±1) = 0. The reference solution in data/burgers_ref.csv is the
# Cole–Hopf solution evaluated by quadrature (tools/reference_data.py).
# Source: Raissi, Perdikaris & Karniadakis (2019); "Physics Informed Neural Networks:
# some insights and limitations" (lecture slides).
# With these settings the network fits the 2,400 training rows to a loss of ≈ 1e-10 but
# can put the shock (width ≈ 0.003) between them, off x = 0: after 300–500 iterations the
# relative error is 0.33, 0.023 and 0.14 for seeds 0, 1, 2 (docs/PERFORMANCE.md), and
# `pdec solve` warns where the loss on fresh points stays near where it started.
time  t in [0, 1]
space x in [-1, 1]
field u
const nu = 0.01/pi

dt(u) + u*dx(u) - nu*dxx(u) = 0   on interior
u = -sin(pi*x)                    on initial
u = 0                             on boundary

exact u from "data/burgers_ref.csv"

model  mlp(layers = [20, 20, 20, 20], activation = tanh)
sample interior = 2000, boundary = 200, initial = 200
solve  optimizer = sngd, iterations = 2000
