# Derivatives of order above 4 are not supported.
space x in [0, 1]
field u
dxxxxx(u) = 1 on interior
u = 0 on boundary
# expect: E0208 4:1
