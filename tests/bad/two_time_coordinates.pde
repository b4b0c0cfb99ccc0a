# At most one time coordinate.
time t in [0, 1]
time s in [0, 2]
space x in [0, 1]
field u
dt(u) - dxx(u) = 0 on interior
# expect: E0221 3:6
