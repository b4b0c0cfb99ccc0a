# The coordinates of a field of some coordinates only: declared, each once, at least one.
space x in [0, 1]
time t in [0, 1]
field u, a(y), b(x, x), c(), d(xx)
dt(u) - dxx(u) = 0 on interior
# expect: E0108 4:12
# expect: E0111 4:21
# expect: E0232 4:26
# expect: E0108 4:32
