# A character that is not part of the language.
space x in [0, 1]
field u
-dxx(u) = 1 on interior
u = 0 @ 1   on boundary
# expect: E0003 5:7
