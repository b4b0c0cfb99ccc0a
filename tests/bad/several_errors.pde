# Several independent errors in one file: all are reported.
space x in [0, 1]
field u
const k = 2
-kk*dxx(u) = 1 on interior
dn(u) = 0 on initial
u = 0 on x = 3
solve optimizer = adamw
