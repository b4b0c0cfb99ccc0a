# A misspelt shape name, in a domain and after `boundary of`.
shape hole = disk((0, 0), 0.3)
space (x, y) in box([-1, 1], [-1, 1]) - hol
field u
-lap(u) = 1 on interior
u = 0 on boundary of hoel
# expect: E0218 3:41
# expect: E0229 6:22
