# A keyword used as a name.
space x in [0, 1]
field weight
-dxx(u) = 1 on interior
