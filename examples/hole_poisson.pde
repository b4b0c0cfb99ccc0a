# Poisson equation on a square with a round hole: Dirichlet on the square's
# sides, a Neumann condition on the hole's circle. Manufactured solution
# u = sin(2x) cos(y) + x y / 2, so -lap(u) = 5 sin(2x) cos(y).
# On the circle the outward normal of the domain points into the hole,
# n = -(x, y) / 0.3, so dn(u) = -(x dx(u) + y dy(u)) / 0.3.
shape outer = box([-1, 1], [-1, 1])
shape hole = disk((0, 0), 0.3)
space (x, y) in outer - hole
field u

let ux = 2*cos(2*x)*cos(y) + y/2
let uy = -sin(2*x)*sin(y) + x/2

-lap(u) = 5*sin(2*x)*cos(y)          on interior
u = sin(2*x)*cos(y) + x*y/2          on boundary of outer
dn(u) = -(x*ux + y*uy)/0.3           on boundary of hole

exact u = sin(2*x)*cos(y) + x*y/2

solve iterations = 300
