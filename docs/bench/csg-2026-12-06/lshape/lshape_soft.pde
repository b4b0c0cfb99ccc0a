# Poisson equation on an L-shaped domain: the square [-1, 1]² without its upper right
# quarter. Manufactured solution u = sin(2x) cos(y) + x y / 2, so -lap(u) = 5 sin(2x) cos(y).
# The Dirichlet condition on the whole boundary is built into the ansatz, u = g + φ·N,
# with φ the R-function distance factor of `square - notch` (docs/language.md, "Hard
# constraints"); `pdec check` prints it.
shape square = box([-1, 1], [-1, 1])
shape notch = box([0, 1], [0, 1])
space (x, y) in square - notch
field u

-lap(u) = 5*sin(2*x)*cos(y)       on interior
u = sin(2*x)*cos(y) + x*y/2       on boundary

exact u = sin(2*x)*cos(y) + x*y/2

model mlp(constraints = soft)
solve iterations = 500
