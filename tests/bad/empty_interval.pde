# An interval whose ends are in the wrong order.
space x in [1, 0]
field u
-dxx(u) = 1 on interior
u = 0 on boundary
# expect: E0220 2:12
