# `where` narrows `boundary` and `boundary of NAME` only.
space (x, y) in box([0, 1], [0, 1])
time t in [0, 1]
field u
dt(u) - lap(u) = 0 on interior
dt(u) - lap(u) = 1 on interior where x < 0.5
u = 0 on initial where y > 0.5
u = 0 on boundary
# expect: E0241 6:23
# expect: E0241 7:10
