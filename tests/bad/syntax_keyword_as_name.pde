# A keyword used as a name.
space x in [0, 1]
field weight
-dxx(u) = 1 on interior
# expect: E0001 3:7
# expect: E0104 4:6
