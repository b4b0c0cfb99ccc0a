# The condition of `if` must compare two expressions.
space x in [0, 1]
field u
-dxx(u) = if(x - 0.5, 1, 0) on interior
u = 0 on boundary
# expect: E0227 4:14
