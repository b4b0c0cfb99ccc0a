# A data file whose header does not match the problem.
space x in [0, 1]
field u
data obs from "bad_columns.csv"
-dxx(u) = 1 on interior
u = obs.u on obs
# expect: E0305 4:15
# expect: E0306 4:15
# expect: E0306 4:15
