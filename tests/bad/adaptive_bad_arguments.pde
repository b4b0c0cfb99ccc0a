# An exponent out of range, a uniform share that is not positive, and a period of zero.
time t in [0, 1]
space x in [-1, 1]
field u
dt(u) + u*dx(u) - 0.003*dxx(u) = 0 on interior
sample adaptive = rad(0, -1) every 0
# expect: E0405 6:36
# expect: E0405 6:23
# expect: E0405 6:26
