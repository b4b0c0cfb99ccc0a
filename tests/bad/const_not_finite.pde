# Constants must be finite.
space x in [0, 1]
field u
const k = 1/0
const m = log(-1)
-dxx(u) = k + m on interior
u = 0 on boundary
# expect: E0205 4:11
# expect: E0205 5:11
