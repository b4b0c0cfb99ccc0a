# A named three-dimensional ball in a two-dimensional domain, and a shape
# declared twice.
shape bubble = ball((0, 0, 0), 0.3)
shape bubble = disk((0, 0), 0.3)
space (x, y) in box([-1, 1], [-1, 1]) - bubble
field u
-lap(u) = 1 on interior
u = 0 on boundary
# expect: E0106 4:7
# expect: E0219 5:41
