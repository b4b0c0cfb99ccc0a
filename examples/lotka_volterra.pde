# Lotka–Volterra predator–prey model: prey x and predators y (in hundreds) over one
# period of the cycle,
#   x' = 2x - 4xy,   y' = 2xy - 1.06y,   x(0) = 1, y(0) = 0.15.
# A time-only problem (a system of ordinary differential equations): no `space` line.
# No closed form: the reference solution in data/lotka_volterra_ref.csv comes from an
# RK4 solve accurate to about 1e-13 (tools/reference_data.py).
# Source: DeepXDE's Lotka–Volterra example (R' = 2R - 0.04RP, P' = 0.02RP - 1.06P,
# R(0) = 100, P(0) = 15), here with x = R/100, y = P/100 and t in [0, 5].
# With uniform points the network can drop x to 0 between two training points just after
# t = 0 (x = 0 is invariant) and fit the equations there; residual-based redraws
# (`adaptive = rad`) put points into such a step (docs/language.md).
time t in [0, 5]
field x, y
sample adaptive = rad

dt(x) = 2*x - 4*x*y        on interior
dt(y) = 2*x*y - 1.06*y     on interior
x = 1                      on initial
y = 0.15                   on initial

exact x from "data/lotka_volterra_ref.csv"
exact y from "data/lotka_volterra_ref.csv"
