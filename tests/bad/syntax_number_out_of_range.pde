# A literal beyond the range of f64.
space x in [0, 1]
field u
const big = 1e999
-dxx(u) = big on interior
# expect: E0006 4:13
