# Names that are not shapes after `boundary of` and in a domain, a shape used
# as a value, and a word other than `boundary` before `of`.
shape hole = disk((0, 0), 0.3)
const r = 1
space (x, y) in box([-1, 1], [-1, 1]) - hole - r
field u
-lap(u) = hole on interior
u = 0 on boundary of u
u = 0 on interior of hole
# expect: E0218 5:48
# expect: E0231 7:11
# expect: E0229 8:22
# expect: E0105 9:10
