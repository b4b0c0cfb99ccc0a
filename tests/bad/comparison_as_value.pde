# A comparison stands only in the condition of `if`.
space x in [0, 1]
field u
-dxx(u) = 2*(x < 0.5) on interior
u = sin(u > 0) on boundary
const c = 1 <= 2
# expect: E0226 4:14
# expect: E0226 5:9
# expect: E0226 6:11
