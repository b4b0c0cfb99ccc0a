# A data file with a cell that is not a number.
space x in [0, 1]
field u
data obs from "bad_value.csv"
-dxx(u) = 1 on interior
u = obs.u on obs
# expect: E0308 4:15
