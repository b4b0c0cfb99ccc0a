# Inverse Lotka–Volterra problem: recover the four rates of
#   x' = a x - b x y,   y' = c x y - d y
# from 51 observations of x and y at t = 0, 0.1, ..., 5 (data/lotka_volterra_obs.csv,
# sampled from the RK4 reference of lotka_volterra.pde, which holds for a = 2, b = 4,
# c = 2, d = 1.06). The initial values are not given: the observations fix them.
# Source: the parameter-identification setting of DeepXDE's inverse ODE examples.
# With defaults, seeds 0-2 at one thread recover a, b, c, d to relative errors of at most
# 1.5e-7, 4.1e-7, 1.9e-7 (docs/language.md, Time-only problems).
time t in [0, 5]
field x, y
param a = 1
param b = 1
param c = 1
param d = 1
data obs from "data/lotka_volterra_obs.csv"

dt(x) = a*x - b*x*y        on interior
dt(y) = c*x*y - d*y        on interior
x = obs.x                  on obs
y = obs.y                  on obs

exact x from "data/lotka_volterra_ref.csv"
exact y from "data/lotka_volterra_ref.csv"
