# The same name declared twice.
space x in [0, 1]
field u
const u = 2
-dxx(u) = 1 on interior
u = 0 on boundary
# expect: E0106 4:7
