# A derivative in a coordinate that is not declared.
space x in [0, 1]
field u
-dxx(u) - dyy(u) = 1 on interior
u = 0 on boundary
# expect: E0202 4:12
