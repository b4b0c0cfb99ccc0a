# Files that cannot be read as grids, and an unknown kind of data.
space x in [0, 1]
space y in [0, 1]
field u
data a from "grid_gap.csv" as grid
data b from "grid_no_axis.csv" as grid
data c from "grid_gap.csv" as table
-lap(u) = a + b + c on interior
u = 0 on boundary
# expect: E0311 5:13
# expect: E0310 6:13
# expect: E0309 7:31
