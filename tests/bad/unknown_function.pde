# A misspelt built-in function.
space x in [0, 1]
field u
-dxx(u) = sinn(pi*x) on interior
u = 0 on boundary
# expect: E0102 4:11
