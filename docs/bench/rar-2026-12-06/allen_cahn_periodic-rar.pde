# examples/allen_cahn_periodic.pde (2026-12-06) with one change: adaptive = rar on the sample line (GN is the default with adaptive).
# docs/PERFORMANCE.md, "Residual-based refinement: adaptive = rar".
time  t in [0, 1]
space x in [-1, 1]
field u
periodic x

dt(u) - 0.0001*dxx(u) + 5*u^3 - 5*u = 0   on interior
u = x^2*cos(pi*x)                          on initial

exact u from "../../../examples/data/allen_cahn_periodic_ref.csv"

model  mlp(layers = [32, 32, 32], activation = tanh)
sample interior = 4000, adaptive = rar
solve  iterations = 2000
