# An unknown activation and a layer width that is not a positive integer.
space x in [0, 1]
field u
-dxx(u) = 1 on interior
u = 0 on boundary
model mlp(layers = [20, 2.5], activation = relu)
# expect: E0405 6:25
# expect: E0402 6:44
