space x in [-1, 1]
space y in [-1, 1]
field u
-lap(u) = 5*sin(2*x)*cos(y)       on interior
u = sin(2*x)*cos(y) + x*y/2 + 3*x*y*(x^2 - 1)*(y^2 - 1)       on boundary
exact u = sin(2*x)*cos(y) + x*y/2
solve iterations = 200
