# A constant may not depend on a field.
space x in [0, 1]
field u
const k = 2*u
-k*dxx(u) = 1 on interior
u = 0 on boundary
# expect: E0204 4:13
