# The normal derivative only exists on the boundary.
space x in [0, 1]
field u
-dxx(u) + dn(u) = 1 on interior
u = 0 on boundary
# expect: E0203 4:11
