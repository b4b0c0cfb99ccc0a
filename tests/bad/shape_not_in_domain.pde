# `boundary of` a shape that is not part of the domain: its boundary is not
# part of the domain's boundary.
shape hole = disk((0, 0), 0.3)
shape island = disk((0.5, 0.5), 0.1)
space (x, y) in box([-1, 1], [-1, 1]) - hole
field u
-lap(u) = 1 on interior
u = 0 on boundary of hole
dn(u) = 0 on boundary of island
# expect: E0230 9:26
