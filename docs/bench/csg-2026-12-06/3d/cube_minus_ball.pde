space (x, y, z) in box([-1, 1], [-1, 1], [-1, 1]) - ball((0, 0, 0), 0.5)
field u
-lap(u) = 0 on interior
u = x*y*z + x^2 - y^2 + 5*(x^2 - 1)*(y^2 - 1)*(z^2 - 1)*(x^2 + y^2 + z^2 - 0.25) on boundary
exact u = x*y*z + x^2 - y^2
solve iterations = 300
