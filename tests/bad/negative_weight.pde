# Weights must be positive.
space x in [0, 1]
field u
-dxx(u) = 1 on interior
u = 0 on boundary weight -1
# expect: E0217 5:26
