# An equation without `on REGION`.
space x in [0, 1]
field u
-dxx(u) = 1
u = 0 on boundary
# expect: E0001 4:12
