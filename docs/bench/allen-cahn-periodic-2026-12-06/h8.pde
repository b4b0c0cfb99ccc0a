# examples/allen_cahn_periodic.pde (2026-12-06) with one change: harmonics = 8 on the model line.
# docs/PERFORMANCE.md, "Allen–Cahn in its benchmark form: where the error is".
time  t in [0, 1]
space x in [-1, 1]
field u
periodic x

dt(u) - 0.0001*dxx(u) + 5*u^3 - 5*u = 0   on interior
u = x^2*cos(pi*x)                          on initial

exact u from "../../../examples/data/allen_cahn_periodic_ref.csv"

model  mlp(layers = [32, 32, 32], activation = tanh, harmonics = 8)
sample interior = 4000
solve  iterations = 2000
