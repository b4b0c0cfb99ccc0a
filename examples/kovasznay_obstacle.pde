# Kovasznay flow (steady incompressible Navier–Stokes at Re = 20, examples/kovasznay.pde)
# in a channel [-0.5, 1] × [-0.5, 1.5] with a disk obstacle of radius 0.15 at (0.25, 0.5),
# where the speed is about 1.6. Each side of the channel holds its own conditions, picked
# with `where`: the velocity on the inlet x = -0.5, on the walls y = -0.5 and y = 1.5 and
# on the obstacle; on the outlet x = 1 the traction nu*dn(u) - p*n of the exact flow.
# The exact solution is Kovasznay's, so the errors are measured against it.
# One shared [2, 40, 40, 40, 3] network (3,523 parameters), 2,000 interior points and
# 600 boundary points shared by the sides by length; J is 7,200 × 3,523, so the default
# optimizer is GN. `nice -n 10 pdec solve examples/kovasznay_obstacle.pde --seed 0
# --threads 2 --quiet --no-plots` (2026-12-05, 2 cores shared with another solve and two
# builds, load average 6–7): all three within 1e-4 (relative L2) from iteration 120
# (229 s); after the 300 iterations (744 s, 2.7 s per iteration) u, v, p are within
# 3.1e-6, 1.5e-5, 1.1e-5. Seeds 1 and 2: 5.3e-6, 2.5e-5, 1.5e-5 (754 s) and 3.8e-6,
# 1.8e-5, 1.0e-5 (770 s).
shape hole = disk((0.25, 0.5), 0.15)
space (x, y) in box([-0.5, 1], [-0.5, 1.5]) - hole
field u
field v
field p

const nu = 1/20
const lam = 1/(2*nu) - sqrt(1/(4*nu^2) + 4*pi^2)
let ue = 1 - exp(lam*x)*cos(2*pi*y)
let ve = lam/(2*pi)*exp(lam*x)*sin(2*pi*y)
let pe = (1 - exp(2*lam*x))/2

u*dx(u) + v*dy(u) + dx(p) - nu*lap(u) = 0   on interior
u*dx(v) + v*dy(v) + dy(p) - nu*lap(v) = 0   on interior
dx(u) + dy(v) = 0                           on interior
u = ue                                      on boundary where x = -0.5
v = ve                                      on boundary where x = -0.5
u = ue                                      on boundary where y = -0.5
v = ve                                      on boundary where y = -0.5
u = ue                                      on boundary where y = 1.5
v = ve                                      on boundary where y = 1.5
u = ue                                      on boundary of hole
v = ve                                      on boundary of hole
nu*dn(u) - p = -nu*lam*exp(lam*x)*cos(2*pi*y) - pe                on boundary where x = 1
nu*dn(v) = nu*lam^2/(2*pi)*exp(lam*x)*sin(2*pi*y)                 on boundary where x = 1

exact u = ue
exact v = ve
exact p = pe

model  mlp(layers = [40, 40, 40], activation = tanh, shared)
sample interior = 2000, boundary = 600
solve  iterations = 300
