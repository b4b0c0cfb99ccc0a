# Grid data used the wrong way.
space x in [0, 1]
space y in [0, 1]
field u
data g from "grid_two_columns.csv" as grid
data h from "grid_short.csv" as grid
-lap(u) = g + g.c + dx(g.a) on interior
u = h(y) on boundary
exact u = g.a*x
# expect: E0312 6:13
# expect: E0313 7:11
# expect: E0211 7:17
# expect: E0313 8:7
# expect: E0213 9:11
