# A time-only problem (an ODE system) has no space: `lap`, `dn` and `boundary` mean nothing there.
time t in [0, 1]
field u
dt(u) + lap(u) = 1 on interior
u = 0 on boundary
dn(u) = 0 on t = 1
# expect: E0228 4:9
# expect: E0228 5:10
# expect: E0228 6:1
