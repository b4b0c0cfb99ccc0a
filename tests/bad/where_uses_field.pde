# A `where` condition may use coordinates and constants only: a field, a param
# or a derivative would move the boundary piece while training.
shape hole = disk((0.25, 0.5), 0.15)
space (x, y) in box([-0.5, 1], [-0.5, 1.5]) - hole
field u
param c = 1
-lap(u) = 1 on interior
u = 0 on boundary where u > 0
u = 0 on boundary where x < c
dn(u) = 0 on boundary where x = 1 and dx(u) > 0
# expect: E0240 8:25
# expect: E0240 9:29
# expect: E0240 10:39
