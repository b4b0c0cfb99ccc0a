# Viscous Burgers equation u_t + u u_x - (0.01/π) u_xx = 0 on [0, 1] × [-1, 1],
# u(0, x) = -sin(πx), u(t, ±1) = 0. The reference solution in data/burgers_ref.csv is the
# Cole–Hopf solution evaluated by quadrature (tools/reference_data.py).
# Source: Raissi, Perdikaris & Karniadakis (2019); "Physics Informed Neural Networks:
# some insights and limitations" (lecture slides).
# The shock at x = 0 is ≈ 0.003 wide, and the trained network can put it between uniform
# collocation points, off its place, while the loss falls to ≈ 1e-10: without
# `adaptive = rad` the relative error after 300 iterations is 0.36, 0.090 and 0.41 for
# seeds 0–2 (one thread; 0.33, 0.023 and 0.14 on another machine), and `pdec solve` flags
# all three as sample-limited through the held-out loss. Redrawing the points by the
# residual every 25 iterations (RAD, the `adaptive` default) puts them on the shock:
# 2.0e-3, 2.4e-4 and 5.3e-4 after 300 iterations (SNGD, penalty blocks). With the initial
# and boundary conditions built into the ansatz and GN (the default with adaptive points),
# the runs return the iterate of the lowest held-out loss. With 2,000 points that is
# 1.8e-5 to 6.4e-5 on seeds 0–4 (one thread; up to 1.1e-4 on two): the points limit the
# error. With the 6,000 drawn here and the stall window of adaptive runs (200), seeds 0–4
# run their 2,000 iterations and return 2.5e-6 to 8.8e-6 on one thread (median 6.1e-6)
# and 2.0e-6 to 8.8e-6 on two (median 4.0e-6), in about 23 and 11 minutes per run
# (docs/PERFORMANCE.md, "Burgers with 6,000 points", "The stall window of adaptive runs").
time  t in [0, 1]
space x in [-1, 1]
field u
const nu = 0.01/pi

dt(u) + u*dx(u) - nu*dxx(u) = 0   on interior
u = -sin(pi*x)                    on initial
u = 0                             on boundary

exact u from "data/burgers_ref.csv"

model  mlp(layers = [20, 20, 20, 20], activation = tanh)
sample interior = 6000, adaptive = rad
solve  iterations = 2000
