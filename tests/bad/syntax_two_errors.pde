# Two independent syntax errors: both are reported.
space x in [0, 1]
field u
const a = 2 *
const b = (3 + ) * 2
-dxx(u) = a on interior
u = 0 on boundary on boundary
# expect: E0001 4:14
# expect: E0001 5:16
# expect: E0001 7:19
