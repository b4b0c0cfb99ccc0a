# A three-dimensional ball for two coordinates.
space (x, y) in ball((0, 0, 0), 1)
field u
-lap(u) = 1 on interior
u = 0 on boundary
# expect: E0219 2:22
