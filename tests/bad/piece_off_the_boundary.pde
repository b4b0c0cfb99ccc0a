# A named shape whose boundary is not on the domain's boundary: the disk lies outside
# the square, so subtracting it removes nothing and `boundary of far` has no points.
shape far = disk((5, 5), 1)
space (x, y) in box([-1, 1], [-1, 1]) - far
field u
-lap(u) = 1 on interior
u = 0 on boundary
dn(u) = 0 on boundary of far
# expect: E0243 8:1
