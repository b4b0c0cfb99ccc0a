# An exact solution may only use coordinates and constants.
space x in [0, 1]
field u
-dxx(u) = 1 on interior
u = 0 on boundary
exact u = 2*u
# expect: E0213 6:13
