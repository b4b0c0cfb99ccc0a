# A field that was never declared.
time  t in [0, 1]
space x in [0, 1]
field u
dt(v) - dxx(u) = 0 on interior
u = 0 on boundary
# expect: E0104 5:4
