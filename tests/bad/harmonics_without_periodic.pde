# Harmonics on a problem without a periodic coordinate (a warning), a constraint
# mode and a feature map that do not exist.
space x in [0, 1]
field u
-dxx(u) = 1 on interior
u = 0 on boundary
model mlp(harmonics = 4, constraints = rigid, features = gabor(8, 1))
# expect: E0402 7:40
# expect: E0402 7:58
# expect: W0504 7:23
