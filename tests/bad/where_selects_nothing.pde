# A condition that holds on no part of the boundary: `x = 0.5` crosses the walls
# at two points only (the sides are x = -0.5 and x = 1), and no point of the
# hole's circle has y > 1.
shape hole = disk((0.25, 0.5), 0.15)
space (x, y) in box([-0.5, 1], [-0.5, 1.5]) - hole
field u
-lap(u) = 1 on interior
u = 0 on boundary where x = 0.5
u = 1 on boundary of hole where y > 1
# expect: E0242 8:25
# expect: E0242 9:33
