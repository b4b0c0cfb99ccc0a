# Two rules for redrawing the points, and an adaptive method that does not exist.
space x in [0, 1]
field u
-dxx(u) = 1 on interior
sample interior = 200, resample = every 50
sample adaptive = rdd every 50
# expect: E0410 6:8
# expect: E0402 6:19
