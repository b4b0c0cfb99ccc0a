# An opening parenthesis that is never closed.
space x in [0, 1]
field u
-dxx(u = 1   on interior
u = 0        on boundary
# expect: E0005 4:5
