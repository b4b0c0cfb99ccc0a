# A misspelt constant: the help suggests the near name.
time  t in [0, 1]
space x in [0, 1]
field u
const kappa = 0.25
dt(u) - kapa*dxx(u) = 0   on interior
u = sin(pi*x)             on initial
u = 0                     on boundary
# expect: E0101 6:9
