# d(u, ...) naming a coordinate that does not exist.
space x1 in [0, 1]
space x2 in [0, 1]
field u
-d(u, x1, x1) - d(u, x3, x3) = 1 on interior
u = 0 on boundary
# expect: E0202 5:22
# expect: E0202 5:26
