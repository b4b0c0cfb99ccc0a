# A data file whose header does not match the problem.
space x in [0, 1]
field u
data obs from "bad_columns.csv"
-dxx(u) = 1 on interior
u = obs.u on obs
