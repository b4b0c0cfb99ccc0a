# A feature count that is not a positive integer and a sigma that is not positive.
time t in [0, 1]
space x in [0, 1]
field u
dt(u) - dxx(u) = 0 on interior
model mlp(features = fourier(0.5, -2))
# expect: E0405 6:30
# expect: E0405 6:35
