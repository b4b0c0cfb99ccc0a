# Kovasznay flow: steady incompressible Navier–Stokes at Re = 20 on [-0.5, 1] × [-0.5, 1.5],
# with the velocity (u, v) and the pressure p from one shared [2, 50, 50, 50, 50, 3] network
# (7,953 parameters) and 2,601 interior points: DeepXDE's Kovasznay example, whose 400
# boundary points the conditions built into the ansatz do not need.
# Source: L. I. G. Kovasznay, "Laminar flow behind a two-dimensional grid" (1948); Lu et al.,
# "DeepXDE: a deep learning library for solving differential equations" (SIAM Review 2021).
# The velocity is given on the whole boundary, the pressure on the outflow face x = 1.
# All three conditions are built into the ansatz (the default): the velocity data are the
# exact solution as a formula, so u and v are exact through it and the network learns
# p and zero corrections. Its Jacobian (7,803 × 7,953) is past the size where the default
# optimizer is GN: u, v and p are within 1e-4 (relative L2) from iteration 10, 1.55 s per
# iteration on two cores (seed 0). With `constraints = soft` (and `boundary = 400,
# x = 1 : 100` in `sample`: 8,703 rows) the solver has to find u and v too: within 1e-4
# after about 140 iterations and 5 minutes (docs/PERFORMANCE.md).
space x in [-0.5, 1]
space y in [-0.5, 1.5]
field u
field v
field p

const nu = 1/20
const lam = 1/(2*nu) - sqrt(1/(4*nu^2) + 4*pi^2)

u*dx(u) + v*dy(u) + dx(p) - nu*lap(u) = 0   on interior
u*dx(v) + v*dy(v) + dy(p) - nu*lap(v) = 0   on interior
dx(u) + dy(v) = 0                           on interior
u = 1 - exp(lam*x)*cos(2*pi*y)              on boundary
v = lam/(2*pi)*exp(lam*x)*sin(2*pi*y)       on boundary
p = (1 - exp(2*lam*x))/2                    on x = 1

exact u = 1 - exp(lam*x)*cos(2*pi*y)
exact v = lam/(2*pi)*exp(lam*x)*sin(2*pi*y)
exact p = (1 - exp(2*lam*x))/2

model  mlp(layers = [50, 50, 50, 50], activation = tanh, shared)
sample interior = 2601
solve  iterations = 2000
