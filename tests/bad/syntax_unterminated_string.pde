# A string that is not closed before the end of the line.
space x in [0, 1]
field u
data obs from "obs.csv
-dxx(u) = 1 on interior
# expect: E0004 4:15
# expect: E0301 4:15
