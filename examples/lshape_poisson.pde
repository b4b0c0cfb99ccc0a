# Poisson equation on an L-shaped domain: the square [-1, 1]² without its upper right
# quarter. Manufactured solution u = sin(2x) cos(y) + x y / 2, so -lap(u) = 5 sin(2x) cos(y).
# The Dirichlet condition on the whole boundary is built into the ansatz, u = g + φ·N,
# with φ the R-function distance factor of `square - notch` (docs/language.md, "Hard
# constraints"); `pdec check` prints it. 1,200 interior points, the default
# [2, 20, 20, 20, 20, 1] network (1,341 parameters), SNGD by size.
# `pdec bench examples/lshape_poisson.pde --seeds 0-4 --threads 1,2 --threshold 1e-8`
# (2026-12-06, 2 cores): median relative L2 2.2e-11 (one thread) and 1.7e-11 (two),
# worst 5.0e-11; with `model mlp(constraints = soft)` (the condition a block of 200
# boundary points) 5.9e-9 and 7.4e-9, worst 1.05e-8 (docs/PERFORMANCE.md).
shape square = box([-1, 1], [-1, 1])
shape notch = box([0, 1], [0, 1])
space (x, y) in square - notch
field u

-lap(u) = 5*sin(2*x)*cos(y)       on interior
u = sin(2*x)*cos(y) + x*y/2       on boundary

exact u = sin(2*x)*cos(y) + x*y/2

solve iterations = 500
