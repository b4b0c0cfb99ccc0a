# A misspelt optimizer name.
space x in [0, 1]
field u
-dxx(u) = 1 on interior
u = 0 on boundary
solve optimizer = sgnd, iterations = 100
# expect: E0402 6:19
