# The file ends inside a bracket.
field u
-dxx(u) = 1 on interior
space x in [0, 1
