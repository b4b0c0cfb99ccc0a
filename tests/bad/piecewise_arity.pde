# `min`, `max` and `if` with the wrong number of arguments.
space x in [0, 1]
field u
-dxx(u) + min(u) = 1 on interior
-dxx(u) + max(u, x, 1) = 1 on interior
u = if(x < 0.5, 1) on boundary
# expect: E0207 4:11
# expect: E0207 5:11
# expect: E0207 6:5
