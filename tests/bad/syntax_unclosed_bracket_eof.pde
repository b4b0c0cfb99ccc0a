# The file ends inside a bracket.
field u
-dxx(u) = 1 on interior
space x in [0, 1
# expect: E0005 4:12
