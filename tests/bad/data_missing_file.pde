# A data file that does not exist.
space x in [0, 1]
field u
data obs from "no_such_file.csv"
-dxx(u) = 1 on interior
u = obs.u on obs
# expect: E0301 4:15
