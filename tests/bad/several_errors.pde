# Several independent errors in one file: all are reported.
space x in [0, 1]
field u
const k = 2
-kk*dxx(u) = 1 on interior
dn(u) = 0 on initial
u = 0 on x = 3
solve optimizer = adamw
# expect: E0101 5:2
# expect: E0214 6:14
# expect: E0216 7:14
# expect: E0402 8:19
