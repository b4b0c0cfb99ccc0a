space (x, y, z) in ball((0, 0, 0), 1) - box([-0.3, 0.3], [-0.3, 0.3], [-0.3, 0.3])
field u
-lap(u) = 0 on interior
u = x*y*z + x^2 - y^2 + 5*(1 - x^2 - y^2 - z^2)*(x^2 - 0.09)*(y^2 - 0.09)*(z^2 - 0.09) on boundary
exact u = x*y*z + x^2 - y^2
solve iterations = 300
