# A face must be an end of the coordinate's interval.
space x in [0, 2]
field u
-dxx(u) = 1 on interior
u = 0 on x = 0
u = 0 on x = 1
# expect: E0216 6:14
