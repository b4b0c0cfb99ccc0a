# The right-hand side of an equation is missing.
space x in [0, 1]
field u
-dxx(u) = 1 on interior
u =         on boundary
# expect: E0001 5:13
