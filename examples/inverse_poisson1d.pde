# Inverse problem: recover the diffusion coefficient k in -k u'' = 2π² sin(πx) on [0, 1]
# with u = 0 at both ends, from 25 observations of u (data/inverse_poisson1d_obs.csv,
# sampled from the exact solution u = sin(πx), which holds for k = 2).
# Source: the inverse-problem setting of Raissi, Perdikaris & Karniadakis (2019).
space x in [0, 1]
field u
param k = 1
data obs from "data/inverse_poisson1d_obs.csv"

-k*dxx(u) = 2*pi^2*sin(pi*x)   on interior
u = 0                          on boundary
u = obs.u                      on obs   weight 10

exact u = sin(pi*x)

model  mlp(layers = [20, 20], activation = tanh)
sample interior = 200
solve  iterations = 500
